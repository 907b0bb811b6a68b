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

// Where the IP header puts the L4 header and the datagram's end.
struct CommonIp {
  uint32_t l4_off, ip_end;
  uint8_t proto;
  bool v6;
};

// The steps below are on every packet's path: always_inline keeps
// ParseCommon() one function, as fast as before it was split (callgrind
// instruction counts, docs/BENCHMARKS_GRO.md).

// IPv4 of version 4 without options and not a fragment (reserved, MF and
// offset bits clear), or IPv6 without a jumbo payload; the datagram within
// the frame.  False for anything else.
[[gnu::always_inline]] inline bool ParseIp(const uint8_t* d, uint32_t pkt,
                                           CommonIp* out) {
  const uint16_t type = Be16(d + 12);
  const uint8_t* ip = d + kEth;
  if (type == 0x0800) {
    const uint32_t total = Be16(ip + 2);
    if (ip[0] != 0x45 || total < 20 || kEth + total > pkt ||
        (Be16(ip + 6) & 0xbfff) != 0) {
      return false;
    }
    *out = CommonIp{kEth + 20, kEth + total, ip[9], false};
    return true;
  }
  if (type == 0x86DD) {
    const uint32_t plen = Be16(ip + 4);
    if ((ip[0] >> 4) != 6 || plen == 0 || kEth + 40 + plen > pkt) {
      return false;
    }
    *out = CommonIp{kEth + 40, kEth + 40 + plen, ip[6], true};
    return true;
  }
  return false;
}

// TCP, or UDP not on the VXLAN port, whose header lies in the first
// segment and within the datagram: sets the type, sequence number and L4
// attributes.  Returns the payload's offset, or 0 (nothing written).
[[gnu::always_inline]] inline uint32_t ParseL4(const uint8_t* d,
                                               const CommonIp& ip, uint32_t seg,
                                               const ParseConfig& cfg,
                                               ParsedPacket* out) {
  const uint32_t region = ip.ip_end - ip.l4_off;
  const uint8_t* l4 = d + ip.l4_off;
  FlowAttrs& a = out->attrs;
  if (ip.proto == IPPROTO_TCP) {
    if (region < 20 || ip.l4_off + 20 > seg) return 0;
    const uint32_t doff = (l4[12] >> 4) * 4u;
    if (doff < 20 || doff > region || ip.l4_off + doff > seg) return 0;
    out->type = ip.v6 ? kTcp6 : kTcp4;
    out->tcp_flags = l4[13];
    out->seq = Be32(l4 + 4);
    a.ack = Be32(l4 + 8);
    a.tcp_word = Be32(l4 + 12) & ~kTcpWordMergeable;
    a.opt_len = uint8_t(doff - 20);
    return ip.l4_off + doff;
  }
  if (ip.proto == IPPROTO_UDP) {
    if (region < 8 || ip.l4_off + 8 > seg || Be16(l4 + 4) != region ||
        Be16(l4 + 2) == cfg.vxlan_port) {
      return 0;
    }
    out->type = ip.v6 ? kUdp6 : kUdp4;
    a.udp_csum_zero = Be16(l4 + 6) == 0;
    return ip.l4_off + 8;
  }
  return 0;
}

// The addresses (key and destination) and the IP header's attributes.
[[gnu::always_inline]] inline void SetIpFields(const uint8_t* ip, bool v6,
                                               ParsedPacket* out) {
  FlowKey& k = out->key;
  FlowAttrs& a = out->attrs;
  if (v6) {
    const uint32_t w0 = Be32(ip);
    memcpy(out->dst_ip, ip + 24, 16);
    memcpy(k.src, ip + 8, 16);
    memcpy(k.dst, ip + 24, 16);
    a.tos = uint8_t(w0 >> 20);
    out->ecn = uint8_t(w0 >> 20) & 3;
    a.flow_label = w0 & 0xfffff;
    a.ttl = ip[7];
    a.df = 1;  // IPv6: IDs ignored, as with DF
  } else {
    memcpy(out->dst_ip, ip + 16, 4);
    memcpy(k.src, ip + 12, 4);
    memcpy(k.dst, ip + 16, 4);
    out->ip_id = Be16(ip + 4);
    a.tos = ip[1];
    out->ecn = ip[1] & 3;
    a.ttl = ip[8];
    a.df = (ip[6] & 0x40) != 0;
  }
  out->dst_is_v6 = v6;
  out->is_v6 = v6;
}

}  // namespace

bool ParseCommon(const rte_mbuf* m, const ParseConfig& cfg, ParsedPacket* out) {
  const uint32_t seg = m->data_len, pkt = m->pkt_len;
  if (seg < kEth + 40 || seg > pkt) return false;
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  CommonIp ip;
  if (!ParseIp(d, pkt, &ip)) return false;
  const uint32_t payload_off = ParseL4(d, ip, seg, cfg, out);
  if (payload_off == 0) return false;
  const uint8_t* l3 = d + kEth;
  SetIpFields(l3, ip.v6, out);
  out->l4_proto = ip.proto;
  out->l3_off = kEth;
  out->l4_off = uint16_t(ip.l4_off);
  out->payload_off = uint16_t(payload_off);
  out->payload_len = ip.ip_end - payload_off;
  FlowKey& k = out->key;
  memcpy(k.mac, d, 12);
  k.sport = Be16(d + ip.l4_off);
  k.dport = Be16(d + ip.l4_off + 2);
  k.proto = ip.proto;
  k.type = uint8_t(out->type);
  k.port = m->port;
  out->key_valid = true;
  out->pair_valid = true;
  out->hash = FlowHash(l3 + (ip.v6 ? 8 : 12), l3 + (ip.v6 ? 24 : 16), ip.v6,
                       uint64_t(k.sport) << 48 | uint64_t(k.dport) << 32 |
                           FlowWordLow(0, k.type, 0, k.port),
                       nullptr);
  SetLookupReason(ip.ip_end < pkt, out);
  return true;
}

}  // namespace grod::gro::internal
