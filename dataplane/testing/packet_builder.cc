#include "dataplane/testing/packet_builder.h"

#include <algorithm>
#include <cstring>

#include "common/testing/inet_checksum.h"

namespace grod::gro::testing {
namespace {

void Put16(Bytes* b, size_t at, uint32_t v) {
  (*b)[at] = uint8_t(v >> 8);
  (*b)[at + 1] = uint8_t(v);
}
void Put32(Bytes* b, size_t at, uint32_t v) {
  Put16(b, at, v >> 16);
  Put16(b, at + 2, v);
}
uint16_t Get16(const Bytes& b, size_t at) {
  return uint16_t(b[at] << 8 | b[at + 1]);
}

using ::grod::testing::Checksum;
using ::grod::testing::OnesSum;

// Offset of the IP header in a frame (after VLAN tags).
size_t L3Offset(const Bytes& f, uint16_t* ethertype) {
  size_t off = 12;
  uint16_t t = Get16(f, off);
  while (t == 0x8100 || t == 0x88A8) {
    off += 4;
    t = Get16(f, off);
  }
  *ethertype = t;
  return off + 2;
}

}  // namespace

Bytes Payload(size_t n, uint32_t seed) {
  Bytes b(n);
  uint32_t x = seed * 2654435761u + 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345;
    b[i] = uint8_t(x >> 16);
  }
  return b;
}

void FixChecksums(Bytes* frame) {
  Bytes& f = *frame;
  uint16_t type;
  const size_t l3 = L3Offset(f, &type);
  size_t l4;
  uint32_t l4_len;
  uint8_t proto;
  uint64_t pseudo;
  if (type == 0x0800) {
    const size_t ihl = (f[l3] & 0x0f) * 4;
    Put16(&f, l3 + 10, 0);
    Put16(&f, l3 + 10, Checksum(OnesSum(&f[l3], ihl)));
    if (Get16(f, l3 + 6) & 0x3fff) return;  // fragment: no L4 header here
    l4 = l3 + ihl;
    l4_len = Get16(f, l3 + 2) - ihl;
    proto = f[l3 + 9];
    pseudo = OnesSum(&f[l3 + 12], 8);
  } else {
    l4 = l3 + 40;
    l4_len = Get16(f, l3 + 4);
    proto = f[l3 + 6];
    pseudo = OnesSum(&f[l3 + 8], 32);
  }
  // Malformed test frames may claim more bytes than they have: checksum
  // what is there, and nothing when the L4 header itself is missing.
  const size_t field = l4 + (proto == IPPROTO_TCP ? 16 : 6);
  if (field + 2 > f.size()) return;
  l4_len = std::min<size_t>(l4_len, f.size() - l4);
  pseudo += proto + l4_len;
  Put16(&f, field, 0);
  uint16_t c = Checksum(OnesSum(&f[l4], l4_len, pseudo));
  if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
  Put16(&f, field, c);
}

Bytes Build(const PacketSpec& s) {
  Bytes f;
  f.insert(f.end(), s.dst_mac.begin(), s.dst_mac.end());
  f.insert(f.end(), s.src_mac.begin(), s.src_mac.end());
  for (size_t i = 0; i < s.vlans.size(); ++i) {
    const uint16_t tpid = (s.vlans.size() == 2 && i == 0) ? 0x88A8 : 0x8100;
    f.push_back(tpid >> 8);
    f.push_back(tpid & 0xff);
    f.push_back(s.vlans[i] >> 8);
    f.push_back(s.vlans[i] & 0xff);
  }
  f.push_back(s.v6 ? 0x86 : 0x08);
  f.push_back(s.v6 ? 0xDD : 0x00);
  const size_t l3 = f.size();
  Bytes l4;
  if (!s.raw_ip_payload) {
    if (s.proto == IPPROTO_TCP) {
      l4.resize(20 + s.tcp_options.size());
      Put16(&l4, 0, s.sport);
      Put16(&l4, 2, s.dport);
      Put32(&l4, 4, s.seq);
      Put32(&l4, 8, s.ack);
      l4[12] = uint8_t((l4.size() / 4) << 4);
      l4[13] = s.tcp_flags;
      Put16(&l4, 14, 65000);
      // memcpy from an empty vector's null data() is undefined, even for 0.
      if (!s.tcp_options.empty()) {
        std::memcpy(&l4[20], s.tcp_options.data(), s.tcp_options.size());
      }
    } else {
      l4.resize(8);
      Put16(&l4, 0, s.sport);
      Put16(&l4, 2, s.dport);
      Put16(&l4, 4, 8 + s.payload.size());
    }
  }
  l4.insert(l4.end(), s.payload.begin(), s.payload.end());
  if (s.v6) {
    f.resize(l3 + 40);
    Put32(&f, l3, 6u << 28 | uint32_t(s.tos) << 20 | (s.flow_label & 0xfffff));
    Put16(&f, l3 + 4, l4.size());
    f[l3 + 6] = s.proto;
    f[l3 + 7] = s.ttl;
    std::memcpy(&f[l3 + 8], s.src_ip.data(), 16);
    std::memcpy(&f[l3 + 24], s.dst_ip.data(), 16);
  } else {
    const size_t ihl = 20 + s.ip_options.size();
    f.resize(l3 + ihl);
    f[l3] = uint8_t(0x40 | ihl / 4);
    f[l3 + 1] = s.tos;
    Put16(&f, l3 + 2, ihl + l4.size());
    Put16(&f, l3 + 4, s.ip_id);
    Put16(&f, l3 + 6,
          (s.df ? 0x4000 : 0) | (s.mf ? 0x2000 : 0) | (s.frag_off / 8));
    f[l3 + 8] = s.ttl;
    f[l3 + 9] = s.proto;
    std::memcpy(&f[l3 + 12], s.src_ip.data(), 4);
    std::memcpy(&f[l3 + 16], s.dst_ip.data(), 4);
    if (!s.ip_options.empty()) {
      std::memcpy(&f[l3 + 20], s.ip_options.data(), s.ip_options.size());
    }
  }
  f.insert(f.end(), l4.begin(), l4.end());
  if (s.raw_ip_payload) {
    if (!s.v6) {
      const size_t ihl = (f[l3] & 0x0f) * 4;
      Put16(&f, l3 + 10, 0);
      Put16(&f, l3 + 10, Checksum(OnesSum(&f[l3], ihl)));
    }
  } else {
    FixChecksums(&f);
    if (s.proto == IPPROTO_UDP && s.zero_udp_checksum) {
      Put16(&f, f.size() - s.payload.size() - 2, 0);
    }
  }
  return f;
}

Bytes BuildVxlan(PacketSpec outer, uint32_t vni, const Bytes& inner_frame) {
  outer.proto = IPPROTO_UDP;
  Bytes vx(8, 0);
  vx[0] = 0x08;
  Put32(&vx, 4, vni << 8);
  vx.insert(vx.end(), inner_frame.begin(), inner_frame.end());
  outer.payload = vx;
  outer.raw_ip_payload = false;
  return Build(outer);
}

std::vector<Bytes> Fragment(const Bytes& frame, uint32_t chunk) {
  uint16_t type;
  const size_t l3 = L3Offset(frame, &type);
  const size_t ihl = (frame[l3] & 0x0f) * 4;
  const size_t total = Get16(frame, l3 + 2);
  const size_t data = total - ihl;
  std::vector<Bytes> out;
  for (size_t off = 0; off < data; off += chunk) {
    const size_t n = std::min<size_t>(chunk, data - off);
    Bytes f(frame.begin(), frame.begin() + l3 + ihl);
    f.insert(f.end(), frame.begin() + l3 + ihl + off,
             frame.begin() + l3 + ihl + off + n);
    Put16(&f, l3 + 2, ihl + n);
    const bool more = off + n < data;
    Put16(&f, l3 + 6,
          (Get16(frame, l3 + 6) & 0x4000) | (more ? 0x2000 : 0) | (off / 8));
    Put16(&f, l3 + 10, 0);
    Put16(&f, l3 + 10, Checksum(OnesSum(&f[l3], ihl)));
    out.push_back(std::move(f));
  }
  return out;
}

rte_mbuf* ToMbuf(rte_mempool* pool, const Bytes& b, uint32_t split) {
  rte_mbuf* head = nullptr;
  size_t at = 0;
  do {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
      rte_pktmbuf_free(head);
      return nullptr;
    }
    size_t n = std::min<size_t>(b.size() - at, rte_pktmbuf_tailroom(m));
    if (head == nullptr && split > 0 && split < n) n = split;
    std::memcpy(rte_pktmbuf_append(m, n), b.data() + at, n);
    at += n;
    if (head == nullptr) {
      head = m;
    } else if (rte_pktmbuf_chain(head, m) != 0) {
      rte_pktmbuf_free(m);
      rte_pktmbuf_free(head);
      return nullptr;
    }
  } while (at < b.size());
  return head;
}

Bytes ToBytes(const rte_mbuf* m) {
  Bytes b(m->pkt_len);
  const void* p = rte_pktmbuf_read(m, 0, m->pkt_len, b.data());
  if (p != b.data()) std::memcpy(b.data(), p, m->pkt_len);
  return b;
}

}  // namespace grod::gro::testing
