// A flow hash from a few header fields, without a parse: a lookup hint
// for the fast path and burst mode.
#ifndef GROD_DATAPLANE_GRO_PEEK_HASH_H_
#define GROD_DATAPLANE_GRO_PEEK_HASH_H_

#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

#include "dataplane/gro/bytes.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/gro/hash.h"

namespace grod::gro {
// The hash Parse() computes, from a few fields, for the packets that can
// take the fast path (plain TCP/UDP over IPv4/IPv6, <= 2 VLAN tags);
// false for anything else.  Only a lookup hint: the template decides.
// *long_hdr: the headers likely end past byte 64 (a prefetch hint).
inline bool PeekHash(const rte_mbuf* m, const uint8_t* d, uint16_t vxlan_port,
                     uint32_t* hash, bool* long_hdr) {
  const uint32_t len = m->data_len;
  if (len < 38) return false;
  // The common case first, straight-line: untagged IPv4, no options, not
  // a fragment, TCP or (non-VXLAN) UDP.
  uint64_t w;  // ethertype, version/IHL, TOS, total length, ID
  memcpy(&w, d + 12, 8);
  if ((w & 0xffffff) == (RTE_BE16(0x0800) | 0x45u << 16) &&
      !(Load16(d + 20) & RTE_BE16(0x3fff))) {
    const uint8_t proto = d[23];
    const uint16_t dport = Be16(d + 36);
    uint32_t type;
    if (proto == IPPROTO_TCP) {
      type = kTcp4;
    } else if (proto == IPPROTO_UDP && dport != vxlan_port) {
      type = kUdp4;
    } else {
      return false;
    }
    // TCP options (timestamps: 66 bytes) put the header past 64 bytes.
    *long_hdr = proto == IPPROTO_TCP && len > 46 && (d[46] >> 4) >= 8;
    *hash = FlowHash(d + 26, d + 30, false,
                     uint64_t(Be16(d + 34)) << 48 | uint64_t(dport) << 32 |
                         FlowWordLow(0, type, 0, m->port),
                     nullptr);
    return true;
  }
  uint32_t off = 14;
  uint16_t et = Load16(d + 12);
  for (int i = 0; i < 2; ++i) {
    if (et != RTE_BE16(0x8100) && et != RTE_BE16(0x88A8)) break;
    et = Load16(d + off + 2);
    off += 4;
  }
  const uint8_t *src, *dst;
  uint32_t l4, proto;
  bool v6;
  if (et == RTE_BE16(0x0800)) {
    if (off + 20 > len) return false;
    const uint8_t vihl = d[off];
    if ((vihl >> 4) != 4 || (vihl & 15) < 5) return false;
    if (Load16(d + off + 6) & RTE_BE16(0x3fff)) return false;  // fragment
    proto = d[off + 9];
    src = d + off + 12;
    dst = d + off + 16;
    l4 = off + (vihl & 15) * 4u;
    v6 = false;
  } else if (et == RTE_BE16(0x86DD)) {
    if (off + 40 > len) return false;
    proto = d[off + 6];
    src = d + off + 8;
    dst = d + off + 24;
    l4 = off + 40;
    v6 = true;
  } else {
    return false;
  }
  if (l4 + 8 > len) return false;
  uint32_t type;
  const uint16_t dport = Be16(d + l4 + 2);
  if (proto == IPPROTO_TCP) {
    type = v6 ? kTcp6 : kTcp4;
  } else if (proto == IPPROTO_UDP && dport != vxlan_port) {
    type = v6 ? kUdp6 : kUdp4;
  } else {
    return false;
  }
  // Whether the header ends past byte 64 (the template's second half, in
  // the flow's cold entry, is compared too): TCP by its data offset.
  const uint32_t l4_len = proto != IPPROTO_TCP ? 8u
                          : l4 + 13 <= len     ? (d[l4 + 12] >> 4) * 4u
                                               : 20u;
  *long_hdr = l4 + l4_len > 64;
  *hash = FlowHash(src, dst, v6,
                   uint64_t(Be16(d + l4)) << 48 | uint64_t(dport) << 32 |
                       FlowWordLow(0, type, 0, m->port),
                   nullptr);
  return true;
}

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_PEEK_HASH_H_
