#include "dataplane/testing/gro_test_util.h"

#include <netinet/in.h>

#include "common/testing/inet_checksum.h"

namespace grod::gro::testing {
namespace {

using ::grod::testing::Fold;
using ::grod::testing::OnesSum;

size_t SkipL2(const Bytes& f, size_t off, uint16_t* type) {
  off += 12;
  *type = uint16_t(f[off] << 8 | f[off + 1]);
  while (*type == 0x8100 || *type == 0x88A8) {
    off += 4;
    *type = uint16_t(f[off] << 8 | f[off + 1]);
  }
  return off + 2;
}

// Patches the L4 checksum of the IP packet at l3 with the TSO pseudo sum;
// returns the L4 offset.
size_t PatchL4(Bytes* f, size_t l3, bool v6) {
  Bytes& b = *f;
  size_t l4;
  uint8_t proto;
  uint32_t s;
  if (v6) {
    l4 = l3 + 40;
    proto = b[l3 + 6];
    s = OnesSum(&b[l3 + 8], 32);
  } else {
    l4 = l3 + (b[l3] & 0x0f) * 4;
    proto = b[l3 + 9];
    s = OnesSum(&b[l3 + 12], 8);
  }
  s = Fold(s + proto);
  const size_t field = l4 + (proto == IPPROTO_TCP ? 16 : 6);
  b[field] = uint8_t(s >> 8);
  b[field + 1] = uint8_t(s);
  return l4;
}

}  // namespace

PacketSpec TcpSegment(uint32_t seq, size_t len, bool v6) {
  PacketSpec s;
  s.v6 = v6;
  if (v6) {
    s.src_ip = {0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    s.dst_ip = {0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  }
  s.seq = seq;
  s.payload = Payload(len, seq);
  return s;
}

Bytes AsMergedHeaders(Bytes f, bool vxlan) {
  uint16_t type;
  size_t l3 = SkipL2(f, 0, &type);
  if (vxlan) {
    const bool v6 = type == 0x86DD;
    const size_t l4 = v6 ? l3 + 40 : l3 + (f[l3] & 0x0f) * 4;
    // Outer UDP checksum: 0 over IPv4; over IPv6 kept, as a TSO pseudo
    // sum for the NIC (or software GSO) to complete.
    if (v6) {
      PatchL4(&f, l3, true);
    } else {
      f[l4 + 6] = f[l4 + 7] = 0;
    }
    l3 = SkipL2(f, l4 + 16, &type);
  }
  PatchL4(&f, l3, type == 0x86DD);
  return f;
}

OutPkt Consume(rte_mbuf* m) {
  OutPkt o;
  o.bytes = ToBytes(m);
  o.ol_flags = m->ol_flags;
  o.tso_segsz = m->tso_segsz;
  o.nb_segs = m->nb_segs;
  o.l2_len = m->l2_len;
  o.l3_len = m->l3_len;
  o.l4_len = m->l4_len;
  o.outer_l2_len = m->outer_l2_len;
  o.outer_l3_len = m->outer_l3_len;
  o.packet_type = m->packet_type;
  o.list = IsList(m);
  std::vector<rte_mbuf*> members(ListLength(m));
  const uint16_t n = Unlink(m, members.data(), members.size());
  members.resize(n);
  for (rte_mbuf* x : members) {
    o.members.push_back(ToBytes(x));
    rte_pktmbuf_free(x);
  }
  return o;
}

}  // namespace grod::gro::testing
