// Header parser.  Reads only bytes inside the first mbuf segment and inside
// the lengths the headers claim, so malformed input can never make it read
// out of bounds (the DPDK bug class "invalid TCP header length OOB").
#include <netinet/in.h>

#include <cstring>

#include "dataplane/gro/bytes.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/gro/hash.h"
#include "dataplane/gro/parse_common.h"

namespace grod::gro {
namespace {

constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86DD;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint16_t kEthQinQ = 0x88A8;

// One Ethernet/IP/L4 layer.  A VXLAN packet has two.
struct Layer {
  uint16_t l2_off, l3_off, l4_off, payload_off;
  uint16_t tci[2];
  const uint8_t* mac;
  const uint8_t* src;
  const uint8_t* dst;
  bool is_v6, frag, mf, df, padded;
  bool ip_ok;  // the IP header parsed (src/dst valid)
  uint8_t proto, ttl, tos;
  uint16_t ip_id;
  uint32_t flow_label;
  uint32_t frag_off;     // bytes
  uint32_t ip_end;       // offset just after the IP datagram
  uint32_t payload_len;  // L4 payload, or IP payload for fragments
};

class Reader {
 public:
  Reader(const uint8_t* d, uint32_t seg_len, uint32_t pkt_len)
      : d_(d), seg_len_(seg_len), pkt_len_(pkt_len) {}
  const uint8_t* data() const { return d_; }
  // kPassNone when [0, end) lies inside the first segment and `frame_end`.
  PassReason Need(uint32_t end, uint32_t frame_end) const {
    if (end > frame_end || end > pkt_len_) return kPassTruncated;
    if (end > seg_len_) return kPassMultiSeg;
    return kPassNone;
  }

 private:
  const uint8_t* d_;
  uint32_t seg_len_, pkt_len_;
};

PassReason ParseL2(const Reader& r, uint32_t off, uint32_t frame_end, Layer* l,
                   uint16_t* ethertype) {
  l->l2_off = off;
  if (PassReason e = r.Need(off + 14, frame_end)) return e;
  const uint8_t* d = r.data();
  l->mac = d + off;
  uint16_t type = Be16(d + off + 12);
  off += 14;
  l->tci[0] = l->tci[1] = 0;
  for (int i = 0; type == kEthVlan || type == kEthQinQ; ++i) {
    if (i == 2) return kPassNotIp;  // three tags: not something we coalesce
    if (PassReason e = r.Need(off + 4, frame_end)) return e;
    // A TCI of 0 would be indistinguishable from "no tag" in the key; the
    // 0x1000 bit (CFI/DEI) is folded in to keep them apart.
    l->tci[i] = Be16(d + off) | (Be16(d + off) == 0 ? 0x1000 : 0);
    type = Be16(d + off + 2);
    off += 4;
  }
  l->l3_off = off;
  *ethertype = type;
  return kPassNone;
}

PassReason ParseIpv4(const Reader& r, uint32_t frame_end, Layer* l) {
  const uint32_t off = l->l3_off;
  if (PassReason e = r.Need(off + 20, frame_end)) return e;
  const uint8_t* h = r.data() + off;
  const uint32_t ihl = (h[0] & 0x0f) * 4u;
  const uint32_t total = Be16(h + 2);
  if ((h[0] >> 4) != 4 || ihl < 20 || total < ihl) return kPassBadIpHeader;
  if (PassReason e = r.Need(off + ihl, frame_end)) return e;
  if (off + total > frame_end) return kPassIpLength;
  const uint16_t frag = Be16(h + 6);
  if (frag & 0x8000) return kPassBadIpHeader;  // reserved bit
  l->is_v6 = false;
  l->tos = h[1];
  l->ip_id = Be16(h + 4);
  l->df = frag & 0x4000;
  l->mf = frag & 0x2000;
  l->frag_off = (frag & 0x1fff) * 8u;
  l->frag = l->mf || l->frag_off != 0;
  l->ttl = h[8];
  l->proto = h[9];
  l->src = h + 12;
  l->dst = h + 16;
  l->flow_label = 0;
  l->l4_off = off + ihl;
  l->ip_end = off + total;
  l->padded = l->ip_end < frame_end;
  if (l->frag) {
    l->payload_off = l->l4_off;
    l->payload_len = total - ihl;
    // Non-last fragments carry multiples of 8 bytes; a datagram ends at 64K.
    if ((l->mf && (l->payload_len & 7)) ||
        l->frag_off + l->payload_len + ihl > 65535) {
      return kPassBadIpHeader;
    }
  }
  return kPassNone;
}

PassReason ParseIpv6(const Reader& r, uint32_t frame_end, Layer* l) {
  const uint32_t off = l->l3_off;
  if (PassReason e = r.Need(off + 40, frame_end)) return e;
  const uint8_t* h = r.data() + off;
  const uint32_t w0 = Be32(h);
  const uint32_t plen = Be16(h + 4);
  if ((w0 >> 28) != 6 || plen == 0) return kPassBadIpHeader;  // no jumbo
  if (off + 40 + plen > frame_end) return kPassIpLength;
  l->is_v6 = true;
  l->tos = (w0 >> 20) & 0xff;
  l->flow_label = w0 & 0xfffff;
  l->proto = h[6];
  l->ttl = h[7];
  l->src = h + 8;
  l->dst = h + 24;
  l->ip_id = 0;
  // IPv6 has no ID to check: behave like IPv4 with DF set (ID ignored).
  l->df = true;
  l->mf = l->frag = false;
  l->frag_off = 0;
  l->l4_off = off + 40;
  l->ip_end = off + 40 + plen;
  l->padded = l->ip_end < frame_end;
  return kPassNone;
}

// Parses TCP/UDP of a non-fragment.  *tcp_flags is 0 for UDP.
PassReason ParseL4(const Reader& r, Layer* l, uint8_t* tcp_flags) {
  const uint32_t region = l->ip_end - l->l4_off;
  const uint8_t* h = r.data() + l->l4_off;
  if (l->proto == IPPROTO_TCP) {
    if (region < 20) return kPassBadL4Header;
    if (PassReason e = r.Need(l->l4_off + 20, l->ip_end)) return e;
    const uint32_t doff = (h[12] >> 4) * 4u;
    if (doff < 20 || doff > region) return kPassBadL4Header;
    if (PassReason e = r.Need(l->l4_off + doff, l->ip_end)) return e;
    *tcp_flags = h[13];
    l->payload_off = l->l4_off + doff;
    l->payload_len = region - doff;
    return kPassNone;
  }
  if (l->proto == IPPROTO_UDP) {
    if (region < 8) return kPassBadL4Header;
    if (PassReason e = r.Need(l->l4_off + 8, l->ip_end)) return e;
    if (Be16(h + 4) != region) return kPassBadL4Header;
    *tcp_flags = 0;
    l->payload_off = l->l4_off + 8;
    l->payload_len = region - 8;
    return kPassNone;
  }
  return kPassUnsupportedL4;
}

PassReason ParseLayer(const Reader& r, uint32_t off, uint32_t frame_end,
                      Layer* l, uint8_t* tcp_flags) {
  l->ip_ok = false;
  uint16_t type;
  if (PassReason e = ParseL2(r, off, frame_end, l, &type)) return e;
  PassReason e;
  if (type == kEthIpv4) {
    e = ParseIpv4(r, frame_end, l);
  } else if (type == kEthIpv6) {
    e = ParseIpv6(r, frame_end, l);
  } else {
    return kPassNotIp;
  }
  if (e != kPassNone) return e;
  l->ip_ok = true;
  *tcp_flags = 0;
  if (l->frag) return kPassNone;
  return ParseL4(r, l, tcp_flags);
}

// Fixed-size copies: a memcpy of a variable size is a library call.
inline void CopyAddr(uint8_t* dst, const uint8_t* src, bool v6) {
  if (v6) {
    memcpy(dst, src, 16);
  } else {
    memcpy(dst, src, 4);
  }
}

}  // namespace

namespace internal {

namespace {

// The address pair of a packet whose (inner) IP layer `l` parsed but whose
// rest did not (an IPv6 extension header, a protocol other than TCP/UDP,
// a broken L4 header, L4 split across mbufs): what the engine needs to
// keep it behind what its address pair holds.
void SetPair(const Layer& l, const Layer* outer, uint32_t vni, uint16_t port,
             ParsedPacket* out) {
  FlowKey& k = out->key;
  CopyAddr(k.src, l.src, l.is_v6);
  CopyAddr(k.dst, l.dst, l.is_v6);
  k.port = port;
  if (outer != nullptr) {
    CopyAddr(k.outer_src, outer->src, outer->is_v6);
    CopyAddr(k.outer_dst, outer->dst, outer->is_v6);
    k.vni = vni | 1u << 24;
  }
  out->pair_valid = true;
}

// The steps of ParseBytes(), inlined into it: it runs per packet for
// everything ParseCommon() declines (VLAN, VXLAN, fragments, options).

// The VXLAN header after `outer` (a UDP layer on the VXLAN port) and the
// inner layer after it.  False: out->reason says why the packet passes
// (with the inner address pair when the inner IP header parsed).
[[gnu::always_inline]] inline bool ParseVxlan(const Reader& r,
                                              const Layer& outer, uint16_t port,
                                              Layer* inner, uint8_t* flags,
                                              ParsedPacket* out) {
  const uint8_t* d = r.data();
  const uint32_t vx = outer.payload_off;
  if (PassReason e = r.Need(vx + 8, outer.ip_end)) {
    out->reason = e;
    return false;
  }
  if (!(d[vx] & 0x08)) {  // the I flag: VNI present
    out->reason = kPassBadL4Header;
    return false;
  }
  out->has_vni = true;
  out->vni = Be32(d + vx + 4) >> 8;
  if (PassReason e = ParseLayer(r, vx + 8, outer.ip_end, inner, flags)) {
    out->reason = e;
    if (inner->ip_ok) SetPair(*inner, &outer, out->vni, port, out);
    return false;
  }
  out->outer_is_v6 = outer.is_v6;
  out->outer_l3_off = outer.l3_off;
  out->outer_l4_off = outer.l4_off;
  out->outer_ip_id = outer.ip_id;
  return true;
}

// Where the (inner) layer `l` is and what it carries.
[[gnu::always_inline]] inline void SetLayerFields(const Layer& l, uint8_t flags,
                                                  ParsedPacket* out) {
  out->dst_is_v6 = l.is_v6;
  CopyAddr(out->dst_ip, l.dst, l.is_v6);
  out->is_v6 = l.is_v6;
  out->l4_proto = l.proto;
  out->tcp_flags = flags;
  out->ecn = l.tos & 3;
  out->more_frags = l.mf;
  out->l2_off = l.l2_off;
  out->l3_off = l.l3_off;
  out->l4_off = l.l4_off;
  out->payload_off = l.payload_off;
  out->payload_len = l.payload_len;
  out->ip_id = l.ip_id;
}

// The tunnel's part of the key and attributes: outer addresses, MACs,
// tags, UDP ports and VNI.
[[gnu::always_inline]] inline void SetVxlanKey(const uint8_t* d,
                                               const Layer& outer,
                                               const Layer& inner,
                                               ParsedPacket* out) {
  FlowKey& k = out->key;
  FlowAttrs& a = out->attrs;
  CopyAddr(k.outer_src, outer.src, outer.is_v6);
  CopyAddr(k.outer_dst, outer.dst, outer.is_v6);
  memcpy(k.outer_mac, outer.mac, 12);
  k.inner_tci[0] = inner.tci[0];
  k.inner_tci[1] = inner.tci[1];
  k.outer_sport = Be16(d + outer.l4_off);
  k.outer_dport = Be16(d + outer.l4_off + 2);
  k.vni = out->vni | 1u << 24;
  a.outer_ttl = outer.ttl;
  a.outer_tos = outer.tos;
  a.outer_df = outer.df;
}

// The type, sequence number, ports and L4/IP attributes of layer `l`: a
// fragment is keyed by its datagram (src/dst/proto/id), a TCP or UDP
// packet by its ports.
[[gnu::always_inline]] inline void SetL4Key(const uint8_t* d, const Layer& l,
                                            ParsedPacket* out) {
  FlowKey& k = out->key;
  FlowAttrs& a = out->attrs;
  if (l.frag) {
    out->type = kIpv4Frag;
    out->seq = l.frag_off;
    k.sport = l.ip_id;
    return;
  }
  const uint8_t* l4 = d + l.l4_off;
  k.sport = Be16(l4);
  k.dport = Be16(l4 + 2);
  a.ttl = l.ttl;
  a.tos = l.tos;
  a.flow_label = l.flow_label;
  a.df = l.df;
  if (l.proto == IPPROTO_TCP) {
    out->type = l.is_v6 ? kTcp6 : kTcp4;
    out->seq = Be32(l4 + 4);
    a.ack = Be32(l4 + 8);
    a.tcp_word = Be32(l4 + 12) & ~kTcpWordMergeable;
    a.opt_len = l.payload_off - l.l4_off - 20;
  } else {
    out->type = l.is_v6 ? kUdp6 : kUdp4;
    a.udp_csum_zero = Be16(l4 + 6) == 0;
  }
}

void ParseBytes(const uint8_t* data, uint32_t seg_len, uint32_t pkt_len,
                uint16_t port, const ParseConfig& cfg, ParsedPacket* out) {
  const Reader r(data, seg_len, pkt_len);
  const uint8_t* d = r.data();
  Layer outer, inner;
  uint8_t flags = 0;
  if (PassReason e = ParseLayer(r, 0, pkt_len, &outer, &flags)) {
    out->reason = e;
    if (outer.ip_ok) SetPair(outer, nullptr, 0, port, out);
    return;
  }
  out->vlan_id = outer.tci[0] & 0x0fff;
  const bool vxlan = !outer.frag && outer.proto == IPPROTO_UDP &&
                     Be16(d + outer.l4_off + 2) == cfg.vxlan_port;
  if (vxlan && !ParseVxlan(r, outer, port, &inner, &flags, out)) return;
  const Layer& l = vxlan ? inner : outer;
  SetLayerFields(l, flags, out);
  FlowKey& k = out->key;
  CopyAddr(k.src, l.src, l.is_v6);
  CopyAddr(k.dst, l.dst, l.is_v6);
  memcpy(k.mac, l.mac, 12);
  k.tci[0] = outer.tci[0];
  k.tci[1] = outer.tci[1];
  k.proto = l.proto;
  if (vxlan) SetVxlanKey(d, outer, inner, out);
  SetL4Key(d, l, out);
  k.type = static_cast<uint8_t>(out->type);
  k.port = port;
  out->key_valid = true;
  out->pair_valid = true;
  // Read from the packet, not from the FlowKey just written byte-wise:
  // reloading it wide would stall on store forwarding.
  out->hash = FlowHash(l.src, l.dst, l.is_v6,
                       uint64_t(k.sport) << 48 | uint64_t(k.dport) << 32 |
                           FlowWordLow(k.vni, k.type, k.outer_sport, k.port),
                       vxlan ? outer.src : nullptr);
  SetLookupReason(outer.padded || (vxlan && inner.padded), out);
}

}  // namespace

void ParseGeneral(const rte_mbuf* m, const ParseConfig& cfg,
                  ParsedPacket* out) {
  ParseBytes(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, m->pkt_len,
             m->port, cfg, out);
  if (out->reason != kPassMultiSeg || out->key_valid || m->nb_segs < 2) {
    return;
  }
  // Headers split across mbufs never merge, but the packet must not
  // overtake what its flow holds: parse a linear copy of its first bytes
  // for the key (and the pair).
  uint8_t buf[256];
  const uint32_t n = m->pkt_len < sizeof(buf) ? m->pkt_len : sizeof(buf);
  const uint8_t* d =
      static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, n, buf));
  if (d == nullptr) return;
  ParsedPacket q;
  memset(&q, 0, sizeof(q));
  ParseBytes(d, n, m->pkt_len, m->port, cfg, &q);
  if (!q.pair_valid) return;
  q.reason = q.reason == kPassNone ? kPassMultiSeg : q.reason;
  *out = q;
}

}  // namespace internal

}  // namespace grod::gro
