// Differential tests against DPDK's rte_gro (burst mode) on the types both
// support: TCP4, VXLAN-TCP4, IPv4 fragments.  Same bursts in -> the same
// per-flow payload byte stream out, and never more packets than rte_gro.
#include <gtest/gtest.h>
#include <rte_gro.h>

#include <map>
#include <random>
#include <string>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

enum class Stream { kTcp4, kVxlanTcp4, kFrag };

class RteGroDiff
    : public MbufTest,
      public ::testing::WithParamInterface<std::tuple<Stream, int>> {
 protected:
  // rte_gro trusts these fields, so they are set from our parse.
  static void SetRteGroMetadata(rte_mbuf* m) {
    ParsedPacket p;
    Parse(m, {}, &p);
    m->l3_len = p.l4_off - p.l3_off;
    m->l4_len = p.payload_off - p.l4_off;
    if (p.has_vni) {
      m->outer_l2_len = p.outer_l3_off;
      m->outer_l3_len = p.outer_l4_off - p.outer_l3_off;
      m->l2_len = p.l3_off - p.outer_l4_off;
      m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 |
                       RTE_PTYPE_L4_UDP | RTE_PTYPE_TUNNEL_VXLAN |
                       RTE_PTYPE_INNER_L2_ETHER | RTE_PTYPE_INNER_L3_IPV4 |
                       RTE_PTYPE_INNER_L4_TCP;
    } else {
      m->l2_len = p.l3_off;
      m->packet_type =
          RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 |
          (p.l4_proto == IPPROTO_TCP ? RTE_PTYPE_L4_TCP : RTE_PTYPE_L4_UDP);
    }
  }

  // Flow -> payload bytes in output order.  Fragments and reassembled
  // datagrams are keyed by (addresses, IP ID) and contribute IP payload.
  std::map<std::string, Bytes> Streams(const std::vector<rte_mbuf*>& v) {
    std::map<std::string, Bytes> s;
    for (rte_mbuf* m : v) {
      ParsedPacket p;
      Parse(m, {}, &p);
      Bytes all = ToBytes(m);
      if (!p.has_vni && p.l4_proto == IPPROTO_UDP) {
        std::string k(reinterpret_cast<const char*>(&all[26]), 8);
        k += std::to_string(p.ip_id);
        s[k].insert(s[k].end(), all.begin() + p.l4_off, all.end());
        continue;
      }
      EXPECT_TRUE(p.key_valid);
      std::string k(reinterpret_cast<const char*>(&p.key), sizeof(p.key));
      s[k].insert(s[k].end(), all.begin() + p.payload_off, all.end());
    }
    return s;
  }

  std::vector<Bytes> Burst(std::mt19937* rng, Stream kind, int nflows) {
    std::vector<std::vector<Bytes>> flows(nflows);
    for (int f = 0; f < nflows; ++f) {
      PacketSpec s;
      s.sport = uint16_t(100 + f);
      s.seq = (*rng)();
      s.df = f % 2;
      s.ip_id = uint16_t((*rng)());
      const int n = 128 / nflows;
      if (kind == Stream::kFrag) {
        // At most max_segments (64) fragments per datagram: our outputs
        // never carry more (egress must take any output apart), rte_gro's
        // reassembly has no such bound.
        const int nf = n < 64 ? n : 64;
        s.proto = IPPROTO_UDP;
        s.df = false;
        s.payload = Payload(nf * 500 - 8, f);
        flows[f] = Fragment(Build(s), 504);
        if (flows[f].size() > size_t(nf)) flows[f].resize(nf);
        // A truncated set is still a valid prefix of fragments.
        continue;
      }
      PacketSpec outer;
      outer.dport = 4789;
      outer.sport = uint16_t(5000 + f);
      outer.df = false;
      outer.ip_id = uint16_t((*rng)());
      for (int i = 0; i < n; ++i) {
        const size_t len = i + 1 == n ? 300 : 1000;
        s.payload = Payload(len, (*rng)());
        Bytes b = Build(s);
        if (kind == Stream::kVxlanTcp4) {
          b = BuildVxlan(outer, 77, b);
          outer.ip_id++;
        }
        flows[f].push_back(b);
        s.seq += len;
        s.ip_id++;
      }
    }
    // Interleave, keeping each flow in order.
    std::vector<Bytes> out;
    std::vector<size_t> next(nflows, 0);
    for (bool more = true; more;) {
      more = false;
      for (int f = 0; f < nflows; ++f) {
        if (next[f] < flows[f].size() && (*rng)() % 2) {
          out.push_back(flows[f][next[f]++]);
        }
        more |= next[f] < flows[f].size();
      }
    }
    return out;
  }
};

TEST_P(RteGroDiff, SameStreamsNoMorePackets) {
  const Stream kind = std::get<0>(GetParam());
  const int nflows = std::get<1>(GetParam());
  std::mt19937 rng(nflows * 7 + int(kind));
  rte_gro_param param{};
  param.gro_types =
      RTE_GRO_TCP_IPV4 | RTE_GRO_IPV4_VXLAN_TCP_IPV4 | RTE_GRO_UDP_IPV4;
  param.max_flow_num = 64;
  param.max_item_per_flow = 128;
  size_t ours_total = 0, theirs_total = 0;
  for (int round = 0; round < 20; ++round) {
    const std::vector<Bytes> burst = Burst(&rng, kind, nflows);
    ASSERT_LE(burst.size(), RTE_GRO_MAX_BURST_ITEM_NUM);
    std::vector<rte_mbuf*> a, b;
    for (const Bytes& x : burst) {
      a.push_back(ToMbuf(pool_, x));
      b.push_back(ToMbuf(pool_, x));
      SetRteGroMetadata(b.back());
    }
    const uint16_t na = ReassembleBurst(a.data(), a.size(), Mode::kMerge, {});
    const uint16_t nb = rte_gro_reassemble_burst(b.data(), b.size(), &param);
    a.resize(na);
    b.resize(nb);
    EXPECT_LE(na, nb);
    EXPECT_EQ(Streams(a), Streams(b));
    ours_total += na;
    theirs_total += nb;
    for (rte_mbuf* m : a) rte_pktmbuf_free(m);
    for (rte_mbuf* m : b) rte_pktmbuf_free(m);
  }
  RecordProperty("ours", ours_total);
  RecordProperty("rte_gro", theirs_total);
}

std::string Name(const ::testing::TestParamInfo<std::tuple<Stream, int>>& i) {
  static const char* const kNames[] = {"tcp4", "vxlan_tcp4", "frag"};
  return std::string(kNames[int(std::get<0>(i.param))]) + "_" +
         std::to_string(std::get<1>(i.param)) + "flows";
}

INSTANTIATE_TEST_SUITE_P(
    Types, RteGroDiff,
    ::testing::Combine(::testing::Values(Stream::kTcp4, Stream::kVxlanTcp4,
                                         Stream::kFrag),
                       ::testing::Values(1, 4, 16)),
    Name);

}  // namespace
}  // namespace grod::gro::testing
