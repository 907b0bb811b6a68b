#include "dataplane/gro/checksum.h"

#include <netinet/in.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstring>

namespace grod::gro {
namespace {

uint32_t RawSum(const void* p, size_t n) { return rte_raw_cksum(p, n); }

bool Ipv4HeaderOk(const uint8_t* ip) {
  const size_t ihl = (ip[0] & 0x0f) * 4u;
  return Fold(RawSum(ip, ihl)) == 0xffff;
}

thread_local uint64_t software_l4_verifications = 0;

// Verifies the L4 checksum of the datagram whose IP header is at l3_off.
bool L4Ok(const rte_mbuf* m, uint32_t l3_off, bool v6, uint32_t l4_off,
          uint32_t ip_end, uint8_t proto) {
  const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + l3_off;
  const uint8_t* l4 = rte_pktmbuf_mtod(m, const uint8_t*) + l4_off;
  if (proto == IPPROTO_UDP && l4[6] == 0 && l4[7] == 0) return true;
  const uint32_t len = ip_end - l4_off;
  software_l4_verifications++;
  uint16_t raw = 0;
  if (rte_raw_cksum_mbuf(m, l4_off, len, &raw) != 0) return false;
  return Fold(PseudoHeaderSum(ip, v6, proto, len) + raw) == 0xffff;
}

// A NIC that validated the checksums says so; its verdict is trusted, as
// Linux trusts CHECKSUM_UNNECESSARY.  kNone: no verdict (check in software).
enum class Verdict { kBad, kGood, kNone };
Verdict RxVerdict(const rte_mbuf* m, bool v6) {
  const uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  const uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD || ip == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
    return Verdict::kBad;
  }
  if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
      (v6 || ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD)) {
    return Verdict::kGood;
  }
  return Verdict::kNone;
}

uint32_t IpEnd(const uint8_t* d, uint32_t l3_off, bool v6) {
  const uint8_t* ip = d + l3_off;
  return v6 ? l3_off + 40 + (ip[4] << 8 | ip[5])
            : l3_off + (ip[2] << 8 | ip[3]);
}

}  // namespace

uint64_t SoftwareL4Verifications() { return software_l4_verifications; }

namespace {

inline uint64_t Load32Native(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

// 64-bit one's-complement accumulator folded to 32 bits (end-around carry).
inline uint32_t Fold64(uint64_t s) {
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  return uint32_t(s);
}

}  // namespace

// Sums 32-bit words read natively: the same one's-complement sum as
// rte_raw_cksum()'s native 16-bit words, a quarter of the additions.
uint32_t PseudoHeaderSum(const uint8_t* ip, bool v6, uint8_t proto,
                         uint32_t l4_len) {
  uint64_t sum = 0;
  if (v6) {
    for (int i = 8; i < 40; i += 4) sum += Load32Native(ip + i);
  } else {
    sum = Load32Native(ip + 12) + Load32Native(ip + 16);
  }
  // Protocol and length as big-endian 16-bit words, read natively.
  sum += rte_cpu_to_be_16(uint16_t(proto)) +
         rte_cpu_to_be_16(uint16_t(l4_len >> 16)) +
         rte_cpu_to_be_16(uint16_t(l4_len));
  return Fold64(sum);
}

void SetIpv4Checksum(uint8_t* ip) {
  ip[10] = ip[11] = 0;
  const uint32_t ihl = (ip[0] & 0x0f) * 4u;
  uint64_t sum = 0;
  for (uint32_t i = 0; i < ihl; i += 4) sum += Load32Native(ip + i);
  const uint16_t c = ~Fold(Fold64(sum));
  memcpy(ip + 10, &c, 2);  // raw sums are byte-order neutral
}

void SetL4Checksum(rte_mbuf* m, uint32_t l3_off, bool v6, uint32_t l4_off,
                   uint32_t l4_len, uint8_t proto) {
  uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
  uint8_t* field = d + l4_off + (proto == IPPROTO_TCP ? 16 : 6);
  field[0] = field[1] = 0;
  uint16_t raw = 0;
  rte_raw_cksum_mbuf(m, l4_off, l4_len, &raw);
  uint16_t c = ~Fold(PseudoHeaderSum(d + l3_off, v6, proto, l4_len) + raw);
  if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
  memcpy(field, &c, 2);
}

// Each verdict on its own: GOOD, or NONE ("the checksum in the packet is
// not correct, the data's integrity is verified": virtio/vhost deliver a
// partial checksum, as Linux's CHECKSUM_PARTIAL) -- valid; BAD -- invalid;
// UNKNOWN -- checked in software.  A merged packet gets the TSO
// pseudo-header sum in any case (FinalizeMerged), which TSO / Segment()
// complete; a packet that passes keeps its field and its RX flags.
bool PlainChecksumsOk(const rte_mbuf* m, uint32_t l3_off, bool v6,
                      uint32_t l4_off, uint8_t proto) {
  const uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  const uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD || ip == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
    return false;
  }
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  if (!v6 && ip != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
      ip != RTE_MBUF_F_RX_IP_CKSUM_NONE && !Ipv4HeaderOk(d + l3_off)) {
    return false;
  }
  if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE) {
    return true;
  }
  return L4Ok(m, l3_off, v6, l4_off, IpEnd(d, l3_off, v6), proto);
}

bool ChecksumsOk(const rte_mbuf* m, const ParsedPacket& p) {
  if (!p.has_vni && p.type != kIpv4Frag) {
    return PlainChecksumsOk(m, p.l3_off, p.is_v6, p.l4_off, p.l4_proto);
  }
  // (Tunnels: inner-flag semantics vary by NIC, so VXLAN is always checked
  // in software.)
  if (!p.has_vni) {
    const Verdict v = RxVerdict(m, p.is_v6);
    if (v != Verdict::kNone) return v == Verdict::kGood;
  }
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  if (p.has_vni) {
    if (!p.outer_is_v6 && !Ipv4HeaderOk(d + p.outer_l3_off)) return false;
    const uint32_t end = IpEnd(d, p.outer_l3_off, p.outer_is_v6);
    if (!L4Ok(m, p.outer_l3_off, p.outer_is_v6, p.outer_l4_off, end,
              IPPROTO_UDP)) {
      return false;
    }
  }
  if (!p.is_v6 && !Ipv4HeaderOk(d + p.l3_off)) return false;
  if (p.type == kIpv4Frag) return true;  // L4 sum spans all fragments
  return L4Ok(m, p.l3_off, p.is_v6, p.l4_off, IpEnd(d, p.l3_off, p.is_v6),
              p.l4_proto);
}

}  // namespace grod::gro
