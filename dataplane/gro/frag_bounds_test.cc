// IPv4 fragments at the edges: datagrams of more fragments than any output
// may carry (egress unlinks at most 128 list members), fragment storms
// (overlapping, duplicate, never completed, out of order) that must return
// every mbuf, overlap with a later run, and ECN CE on a non-first fragment
// (RFC 3168 section 5.3).  Expected values come from the test's own
// construction of the fragments, never from the engine's parser.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr size_t kL3 = 14;  // untagged Ethernet

uint16_t Get16(const Bytes& b, size_t off) {
  return uint16_t(b[off] << 8 | b[off + 1]);
}

// The IPv4 header checksum verifies (one's-complement sum of the header is
// 0xffff).
bool Ipv4HeaderChecksumOk(const Bytes& f) {
  uint32_t s = 0;
  const size_t ihl = (f[kL3] & 0x0f) * 4u;
  for (size_t i = 0; i < ihl; i += 2) s += Get16(f, kL3 + i);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s == 0xffff;
}

void SetTos(Bytes* f, uint8_t tos) {
  (*f)[kL3 + 1] = tos;
  (*f)[kL3 + 10] = (*f)[kL3 + 11] = 0;
  uint32_t s = 0;
  for (size_t i = 0; i < 20; i += 2) s += Get16(*f, kL3 + i);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  (*f)[kL3 + 10] = uint8_t(~s >> 8);
  (*f)[kL3 + 11] = uint8_t(~s);
}

// A UDP datagram of `bytes` IP-payload bytes (UDP header included).
Bytes Datagram(uint16_t id, size_t bytes, uint8_t tos = 0) {
  PacketSpec s;
  s.proto = IPPROTO_UDP;
  s.df = false;
  s.ip_id = id;
  s.tos = tos;
  s.payload = Payload(bytes - 8, id);
  return Build(s);
}

// The fragment of datagram `d` carrying IP-payload bytes [off, off + len)
// (off multiple of 8), MF as given: built here, not by the engine.
Bytes FragAt(const Bytes& d, size_t off, size_t len, bool mf) {
  Bytes f(d.begin(), d.begin() + kL3 + 20);
  f.insert(f.end(), d.begin() + kL3 + 20 + off,
           d.begin() + kL3 + 20 + off + len);
  f[kL3 + 2] = uint8_t((20 + len) >> 8);
  f[kL3 + 3] = uint8_t(20 + len);
  const uint16_t fo = uint16_t((mf ? 0x2000 : 0) | (off / 8));
  f[kL3 + 6] = uint8_t(fo >> 8);
  f[kL3 + 7] = uint8_t(fo);
  SetTos(&f, f[kL3 + 1]);  // fixes the header checksum
  return f;
}

// Every output: what egress can take (a list of at most max_segments
// members, unlinked into a 128-entry buffer; a merged chain of at most
// max_segments original fragments, one mbuf each here).  Returns the
// number of input packets the outputs carry.  Frees everything.
size_t ConsumeBounded(std::vector<rte_mbuf*>& outs, uint32_t max_segments) {
  size_t carried = 0;
  for (rte_mbuf* m : outs) {
    if (IsList(m)) {
      const uint16_t n = ListLength(m);
      EXPECT_LE(n, max_segments) << "list longer than max_segments";
      rte_mbuf* v[128];
      const uint16_t got = Unlink(m, v, 128);
      EXPECT_EQ(got, n) << "egress could not unlink a list of " << n;
      if (got == 0) {
        FreePacket(m);  // (the test must not leak what the engine built)
      } else {
        for (uint16_t i = 0; i < got; ++i) rte_pktmbuf_free(v[i]);
      }
      carried += n;
    } else {
      EXPECT_LE(m->nb_segs, max_segments) << "merged chain too long";
      carried += m->nb_segs;
      rte_pktmbuf_free(m);
    }
  }
  outs.clear();
  return carried;
}

class FragBounds : public EngineTest,
                   public ::testing::WithParamInterface<Mode> {};

// 200 fragments of 8 bytes: the datagram is complete, but no output may
// carry more than max_segments of them (the old rule exempted fragments).
TEST_P(FragBounds, LongDatagramIsCutAtMaxSegments) {
  Make();
  const Bytes d = Datagram(5, 200 * 8);
  for (size_t i = 0; i < 200; ++i) {
    Feed(FragAt(d, i * 8, 8, i + 1 < 200), GetParam());
  }
  ctx_->FlushAll(&col_.out);
  EXPECT_EQ(ConsumeBounded(col_.Take(), 64), 200u);
  EXPECT_EQ(ctx_->held_packets(), 0u);
}

// Seeded storms: several datagrams of >= 129 fragments, shuffled, with
// duplicates, overlapping pieces and fragments that never come.  Every
// output within the limits, every input delivered once, every mbuf back.
TEST_P(FragBounds, StormsStayBoundedAndReturnEveryMbuf) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    ContextConfig cfg;
    cfg.max_segments = seed % 2 ? 64 : 7;
    Make(cfg);
    std::mt19937 rng(seed);
    std::vector<Bytes> in;
    for (uint16_t id = 0; id < 3; ++id) {
      const size_t nfrag = 129 + rng() % 80;
      const Bytes d = Datagram(uint16_t(100 + id), nfrag * 8);
      for (size_t i = 0; i < nfrag; ++i) {
        if (rng() % 10 == 0) continue;  // never comes
        in.push_back(FragAt(d, i * 8, 8, i + 1 < nfrag));
        if (rng() % 8 == 0) in.push_back(in.back());  // duplicate
        if (rng() % 8 == 0 && i + 2 < nfrag) {
          in.push_back(FragAt(d, i * 8, 16, true));  // overlaps the next
        }
      }
    }
    // Partly out of order: swap neighbours at random.
    for (size_t i = 0; i + 1 < in.size(); ++i) {
      if (rng() % 3 == 0) std::swap(in[i], in[i + 1]);
    }
    const unsigned before = rte_mempool_avail_count(pool_);
    for (const Bytes& f : in) Feed(f, GetParam());
    ctx_->FlushAll(&col_.out);
    EXPECT_EQ(ConsumeBounded(col_.Take(), cfg.max_segments), in.size());
    ctx_.reset();
    EXPECT_EQ(rte_mempool_avail_count(pool_), before) << "mbufs lost";
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, FragBounds,
                         ::testing::Values(Mode::kMerge, Mode::kList));

class FragRules : public EngineTest {};

// Runs [0,1000) and [2000,3000) held; [1000,2496) would append to the
// first run but overlaps the second: a duplicate, never merged, and it
// leaves after everything the flow held.
TEST_F(FragRules, AppendOverlappingTheNextRunIsNeverMerged) {
  Make();
  const Bytes d = Datagram(9, 4000);
  const Bytes a = FragAt(d, 0, 1000, true), b = FragAt(d, 2000, 1000, true),
              x = FragAt(d, 1000, 1496, true);
  Feed(a);
  Feed(b);
  Feed(x);
  auto out = Out(false);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].bytes, a);
  EXPECT_EQ(out[1].bytes, b);
  EXPECT_EQ(out[2].bytes, x);  // arrival order: the overlap comes last
  EXPECT_EQ(ctx_->counters().passthrough[kPassDuplicate], 1u);
}

// The same for TCP: [1000,2000) and [3000,4000) held, [2000,3500) overlaps
// the second run.
TEST_F(FragRules, TcpAppendOverlappingTheNextRunIsNeverMerged) {
  Make();
  const Bytes a = Build(TcpSegment(1000, 1000)),
              b = Build(TcpSegment(3000, 1000)),
              x = Build(TcpSegment(2000, 1500));
  Feed(a);
  Feed(b);
  Feed(x);
  auto out = Out(false);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].bytes, a);
  EXPECT_EQ(out[1].bytes, b);
  EXPECT_EQ(out[2].bytes, x);
  EXPECT_EQ(ctx_->counters().passthrough[kPassDuplicate], 1u);
}

// RFC 3168 5.3: CE on any fragment marks the reassembled datagram CE, with
// a correct IPv4 header checksum.
TEST_F(FragRules, CeOnANonFirstFragmentMarksTheDatagram) {
  Make();
  const Bytes d = Datagram(11, 3000, /*tos=*/0xb8 | 2);  // DSCP 46, ECT(0)
  std::vector<Bytes> f = Fragment(d, 1000);
  ASSERT_EQ(f.size(), 3u);
  SetTos(&f[1], 0xb8 | 3);  // CE
  for (const Bytes& x : f) Feed(x);
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  Bytes want = d;
  SetTos(&want, 0xb8 | 3);
  EXPECT_EQ(out[0].bytes, want);
  EXPECT_TRUE(Ipv4HeaderChecksumOk(out[0].bytes));
}

// CE on the last fragment of a run that stays incomplete: the larger
// fragment carries CE too.
TEST_F(FragRules, CeMarksAPartialRun) {
  Make();
  const Bytes d = Datagram(12, 4000, 1);  // ECT(1)
  std::vector<Bytes> f = Fragment(d, 1000);
  SetTos(&f[1], 3);
  Feed(f[0]);
  Feed(f[1]);
  auto out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes[kL3 + 1] & 3, 3);
  EXPECT_TRUE(Ipv4HeaderChecksumOk(out[0].bytes));
}

// Not-ECT and ECT fragments of one datagram (Linux drops such a datagram):
// never merged, so no receiver sees a mixed datagram from us; each leaves
// unchanged, in arrival order.
TEST_F(FragRules, NotEctAndEctFragmentsNeverMerge) {
  Make();
  const Bytes d = Datagram(13, 2000, 0);
  std::vector<Bytes> f = Fragment(d, 1000);
  ASSERT_EQ(f.size(), 2u);
  SetTos(&f[1], 2);
  Feed(f[0]);
  Feed(f[1]);
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].bytes, f[0]);
  EXPECT_EQ(out[1].bytes, f[1]);
}

}  // namespace
}  // namespace grod::gro::testing
