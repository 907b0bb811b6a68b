#include "dataplane/gro/fuzz/output_invariants.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "dataplane/gro/list.h"

namespace grod::gro::fuzz {
namespace {

void Require(bool ok, const char* what, size_t output) {
  if (!ok) {
    fprintf(stderr, "gro fuzz invariant broken: %s (output %zu)\n", what,
            output);
    abort();
  }
}

uint32_t Be16(const std::string& f, size_t off) {
  return uint32_t(uint8_t(f[off])) << 8 | uint8_t(f[off + 1]);
}

std::string Bytes(const rte_mbuf* m) {
  std::string s;
  for (const rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    s.append(rte_pktmbuf_mtod(seg, const char*), seg->data_len);
  }
  return s;
}

// Offset of the IP header after Ethernet and up to two VLAN tags.
size_t L3Offset(const std::string& f, uint32_t* type) {
  size_t off = 12;
  if (f.size() < 14) return 0;
  *type = Be16(f, off);
  for (int i = 0; i < 2 && (*type == 0x8100 || *type == 0x88a8); ++i) {
    off += 4;
    if (off + 2 > f.size()) return 0;
    *type = Be16(f, off);
  }
  return off + 2;
}

bool Ipv4HeaderChecksumOk(const std::string& f, size_t l3, size_t ihl) {
  uint32_t s = 0;
  for (size_t i = 0; i < ihl; i += 2) s += Be16(f, l3 + i);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s == 0xffff;
}

}  // namespace

std::string OutputInvariants::GroupOf(const std::string& f) const {
  uint32_t type = 0;
  const size_t l3 = L3Offset(f, &type);
  if (l3 == 0) return "";
  size_t l4, end = f.size();
  uint8_t proto;
  std::string addr;
  if (type == 0x0800) {
    if (l3 + 20 > end) return "";
    const size_t ihl = (uint8_t(f[l3]) & 15) * 4u;
    const uint32_t total = Be16(f, l3 + 2);
    if ((uint8_t(f[l3]) >> 4) != 4 || ihl < 20 || total < ihl ||
        l3 + total != end || (Be16(f, l3 + 6) & 0xbfff) != 0) {
      return "";  // malformed, padded, a fragment (sets: unit tests)
    }
    proto = uint8_t(f[l3 + 9]);
    l4 = l3 + ihl;
    addr = f.substr(l3 + 12, 8);
  } else if (type == 0x86dd) {
    if (l3 + 40 > end) return "";
    const uint32_t plen = Be16(f, l3 + 4);
    if ((uint8_t(f[l3]) >> 4) != 6 || plen == 0 || l3 + 40 + plen != end) {
      return "";
    }
    proto = uint8_t(f[l3 + 6]);
    l4 = l3 + 40;
    addr = f.substr(l3 + 8, 32);
  } else {
    return "";
  }
  if (proto == IPPROTO_TCP) {
    if (l4 + 20 > end) return "";
    const size_t doff = (uint8_t(f[l4 + 12]) >> 4) * 4u;
    if (doff < 20 || l4 + doff > end) return "";
  } else if (proto == IPPROTO_UDP) {
    if (l4 + 8 > end || Be16(f, l4 + 4) != end - l4 ||
        Be16(f, l4 + 2) == vxlan_port_) {
      return "";  // (VXLAN: inner flows not classified here)
    }
  } else {
    return "";
  }
  // MACs and VLAN tags are part of the engine's flow identity.
  return f.substr(0, l3) + char(proto) + addr + f.substr(l4, 4);
}

void OutputInvariants::AddInput(const rte_mbuf* m) {
  const size_t i = inputs_.size();
  for (const rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    index_of_[seg] = i;
  }
  Input in{Bytes(m), ""};
  in.group = GroupOf(in.bytes);
  if (!in.group.empty()) in.group += char(m->port);
  inputs_.push_back(in);
}

void OutputInvariants::CheckMerged(const rte_mbuf* m, size_t k) const {
  if (m->ol_flags & RTE_MBUF_F_TX_TUNNEL_MASK) return;  // (outer: not here)
  const std::string f = Bytes(m);
  Require(f.size() == m->pkt_len, "pkt_len is not the chain's bytes", k);
  uint32_t type = 0;
  const size_t l3 = L3Offset(f, &type);
  const size_t len = f.size();
  const bool tso =
      m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG);
  const auto field = [](size_t n) { return n > 65535 ? 0 : n; };
  size_t l4;
  bool plain_tcp = false;
  if (type == 0x0800) {
    const size_t ihl = (uint8_t(f[l3]) & 15) * 4u;
    Require(Be16(f, l3 + 2) == field(len - l3), "IPv4 total length", k);
    const bool frag = Be16(f, l3 + 6) & 0x3fff;
    const bool reassembled = !tso;
    if (cfg_.verify_checksums || frag || reassembled) {
      Require(Ipv4HeaderChecksumOk(f, l3, ihl), "IPv4 header checksum", k);
    }
    l4 = l3 + ihl;
    plain_tcp = uint8_t(f[l3 + 9]) == IPPROTO_TCP;
  } else {
    Require(type == 0x86dd, "merged output is not IP", k);
    Require(Be16(f, l3 + 4) == field(len - l3 - 40), "IPv6 payload length", k);
    l4 = l3 + 40;
    plain_tcp = uint8_t(f[l3 + 6]) == IPPROTO_TCP;
  }
  // Within the configured byte limit (what the outermost IP length field
  // counts; BIG TCP for plain TCP).
  const size_t base = l3 + (type == 0x86dd ? 40 : 0);
  uint32_t limit = cfg_.max_merged_bytes;
  const uint32_t cap = plain_tcp && tso ? kMaxBigMergedBytes : 65535;
  if (limit > cap) limit = cap;
  Require(len - base <= limit, "merged output above max_merged_bytes", k);
  if (!tso) return;
  const bool udp = m->ol_flags & RTE_MBUF_F_TX_UDP_SEG;
  const size_t hdr = udp ? 8 : (uint8_t(f[l4 + 12]) >> 4) * 4u;
  if (udp) {
    Require(Be16(f, l4 + 4) == field(len - l4), "UDP length", k);
  }
  Require(m->tso_segsz != 0, "TSO size 0", k);
  const size_t payload = len - l4 - hdr;
  Require((payload + m->tso_segsz - 1) / m->tso_segsz <= cfg_.max_segments,
          "more TSO segments than max_segments", k);
}

void OutputInvariants::Check(const std::vector<rte_mbuf*>& outputs) const {
  struct Unit {
    size_t amin = SIZE_MAX, amax = 0;
    std::string group;
    size_t output;
  };
  std::vector<Unit> units;
  std::vector<int> seen(inputs_.size(), 0);
  for (size_t k = 0; k < outputs.size(); ++k) {
    const rte_mbuf* o = outputs[k];
    std::vector<const rte_mbuf*> members;
    if (IsList(o)) {
      for (const rte_mbuf* x = o; x != nullptr; x = internal::Link(x)->next) {
        members.push_back(x);
        Require(members.size() <= ListLength(o), "list longer than its count",
                k);
      }
      Require(members.size() == ListLength(o), "list count", k);
      Require(members.size() <= cfg_.max_segments, "list above max_segments",
              k);
    } else {
      members.push_back(o);
    }
    for (const rte_mbuf* x : members) {
      // The inputs it carries (an input of two mbufs: consecutive).
      std::vector<size_t> in;
      for (const rte_mbuf* seg = x; seg != nullptr; seg = seg->next) {
        auto it = index_of_.find(seg);
        Require(it != index_of_.end(), "an output mbuf that was no input", k);
        if (in.empty() || in.back() != it->second) in.push_back(it->second);
      }
      Unit u{SIZE_MAX, 0, inputs_[in[0]].group, k};
      for (size_t i : in) {
        ++seen[i];
        u.amin = std::min(u.amin, i);
        u.amax = std::max(u.amax, i);
        const std::string& g = inputs_[i].group;
        Require(g.empty() || u.group.empty() || g == u.group,
                "an output mixes two 5-tuples", k);
      }
      if (in.size() == 1) {
        Require(Bytes(x) == inputs_[in[0]].bytes,
                "a single-input output is not its input", k);
      } else {
        Require(!IsList(o), "a list member of several inputs", k);
        Require(in.size() <= cfg_.max_segments, "output above max_segments", k);
        CheckMerged(x, k);
      }
      units.push_back(u);
    }
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    Require(seen[i] == 1, "an input not delivered exactly once", i);
  }
  // Order per 5-tuple: the latest first-arrival of the group so far.
  std::map<std::string, size_t> top;
  for (const Unit& u : units) {
    if (u.group.empty()) continue;
    auto t = top.find(u.group);
    if (t != top.end()) {
      Require(u.amax >= t->second, "order per 5-tuple broken", u.output);
    }
    if (t == top.end() || u.amin > t->second) top[u.group] = u.amin;
  }
}

}  // namespace grod::gro::fuzz
