// The common case of Parse(): plain TCP/UDP over IPv4 or IPv6 on untagged
// Ethernet -- what most packets are -- without the general parser's layer
// structs, loops and per-field bounds checks (~2x cheaper).  It accepts
// only packets for which every check of the general parser passes, and
// fills the same fields with the same values; the differential test in
// parse_test.cc holds the two together.
#include <netinet/in.h>

#include <cstring>

#include "dataplane/gro/bytes.h"
#include "dataplane/gro/hash.h"
#include "dataplane/gro/parse_common.h"

namespace grod::gro::internal {
namespace {

constexpr uint32_t kEth = 14;

}  // namespace

bool ParseCommon(const rte_mbuf* m, const ParseConfig& cfg, ParsedPacket* out) {
  const uint32_t seg = m->data_len, pkt = m->pkt_len;
  if (seg < kEth + 40 || seg > pkt) return false;
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint16_t type = Be16(d + 12);
  const uint8_t* ip = d + kEth;
  bool v6;
  uint32_t l4_off, ip_end;
  uint8_t proto;
  if (type == 0x0800) {
    // Version 4, no options; total length within the frame; no fragment
    // bits (reserved, MF, offset).
    const uint32_t total = Be16(ip + 2);
    if (ip[0] != 0x45 || total < 20 || kEth + total > pkt ||
        (Be16(ip + 6) & 0xbfff) != 0) {
      return false;
    }
    v6 = false;
    l4_off = kEth + 20;
    ip_end = kEth + total;
    proto = ip[9];
  } else if (type == 0x86DD) {
    const uint32_t plen = Be16(ip + 4);
    if ((ip[0] >> 4) != 6 || plen == 0 || kEth + 40 + plen > pkt) {
      return false;
    }
    v6 = true;
    l4_off = kEth + 40;
    ip_end = kEth + 40 + plen;
    proto = ip[6];
  } else {
    return false;
  }
  const uint32_t region = ip_end - l4_off;
  const uint8_t* l4 = d + l4_off;
  uint32_t payload_off;
  uint8_t flags = 0;
  FlowAttrs& a = out->attrs;
  if (proto == IPPROTO_TCP) {
    if (region < 20 || l4_off + 20 > seg) return false;
    const uint32_t doff = (l4[12] >> 4) * 4u;
    if (doff < 20 || doff > region || l4_off + doff > seg) return false;
    payload_off = l4_off + doff;
    flags = l4[13];
    out->type = v6 ? kTcp6 : kTcp4;
    out->seq = Be32(l4 + 4);
    a.ack = Be32(l4 + 8);
    a.tcp_word = Be32(l4 + 12) & ~kTcpWordMergeable;
    a.opt_len = uint8_t(doff - 20);
  } else if (proto == IPPROTO_UDP) {
    if (region < 8 || l4_off + 8 > seg || Be16(l4 + 4) != region ||
        Be16(l4 + 2) == cfg.vxlan_port) {
      return false;
    }
    payload_off = l4_off + 8;
    out->type = v6 ? kUdp6 : kUdp4;
    a.udp_csum_zero = Be16(l4 + 6) == 0;
  } else {
    return false;
  }
  const uint8_t* src = v6 ? ip + 8 : ip + 12;
  const uint8_t* dst = v6 ? ip + 24 : ip + 16;
  FlowKey& k = out->key;
  if (v6) {
    const uint32_t w0 = Be32(ip);
    memcpy(out->dst_ip, dst, 16);
    memcpy(k.src, src, 16);
    memcpy(k.dst, dst, 16);
    a.tos = uint8_t(w0 >> 20);
    out->ecn = uint8_t(w0 >> 20) & 3;
    a.flow_label = w0 & 0xfffff;
    a.ttl = ip[7];
    a.df = 1;  // IPv6: IDs ignored, as with DF
  } else {
    memcpy(out->dst_ip, dst, 4);
    memcpy(k.src, src, 4);
    memcpy(k.dst, dst, 4);
    out->ip_id = Be16(ip + 4);
    a.tos = ip[1];
    out->ecn = ip[1] & 3;
    a.ttl = ip[8];
    a.df = (ip[6] & 0x40) != 0;
  }
  out->dst_is_v6 = v6;
  out->is_v6 = v6;
  out->l4_proto = proto;
  out->tcp_flags = flags;
  out->l3_off = kEth;
  out->l4_off = uint16_t(l4_off);
  out->payload_off = uint16_t(payload_off);
  out->payload_len = ip_end - payload_off;
  memcpy(k.mac, d, 12);
  k.sport = Be16(l4);
  k.dport = Be16(l4 + 2);
  k.proto = proto;
  k.type = uint8_t(out->type);
  k.port = m->port;
  out->key_valid = true;
  out->pair_valid = true;
  out->hash = FlowHash(src, dst, v6,
                       uint64_t(k.sport) << 48 | uint64_t(k.dport) << 32 |
                           FlowWordLow(0, k.type, 0, k.port),
                       nullptr);
  // Reasons that still allow a flow lookup, in the general parser's order.
  if (ip_end < pkt) {
    out->reason = kPassEthPadding;
  } else if (flags & kTcpNoMerge) {
    out->reason = kPassTcpFlags;
  } else if (out->payload_len == 0) {
    out->reason = kPassNoPayload;
  } else if (a.udp_csum_zero) {
    out->reason = kPassUdpZeroChecksum;
  }
  return true;
}

}  // namespace grod::gro::internal
