// Order per 5-tuple across the engine's tables and pass-through paths:
// unfragmented UDP datagrams (held by coalescing), fragmented datagrams of
// the same 5-tuple (the fragment table), TCP segments, IPv6 packets with
// extension headers and packets whose headers are split across mbufs
// (both pass through unparsed), duplicate and overlapping fragments, never
// completed datagrams.  Seeded adversarial streams.
//
// The expected order does not come from the engine: every input packet
// carries a unique id in each 8-byte block of its payload (magic + id), and
// the test's own reader finds the ids in each output's bytes (a merged
// packet, a reassembled datagram, each list member).  The test knows which
// 5-tuple each id belongs to and when it arrived; the rule (as the
// independent pcap checker's): an output may not follow one whose input
// all arrived after its own -- within its 5-tuple.  And every id comes out
// exactly once, every mbuf is returned.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr uint8_t kMagic[4] = {0xc0, 0xff, 0xee, 0x42};

// A payload of `blocks` 8-byte blocks tagged with `id`.
Bytes Tagged(uint32_t id, size_t blocks) {
  Bytes b;
  for (size_t i = 0; i < blocks; ++i) {
    b.insert(b.end(), kMagic, kMagic + 4);
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(id >> s));
  }
  return b;
}

// The ids found in `frame`, in order of first appearance.
std::vector<uint32_t> IdsIn(const Bytes& f) {
  std::vector<uint32_t> ids;
  for (size_t i = 0; i + 8 <= f.size(); ++i) {
    if (memcmp(&f[i], kMagic, 4) != 0) continue;
    const uint32_t id = uint32_t(f[i + 4]) << 24 | uint32_t(f[i + 5]) << 16 |
                        uint32_t(f[i + 6]) << 8 | f[i + 7];
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    i += 7;
  }
  return ids;
}

struct Tuple {
  PacketSpec spec;  // addresses, ports, protocol
  uint32_t seq = 1000;
  uint16_t* ip_id;  // the address pair's IPv4 ID counter (RFC 791)
};

struct Input {
  Bytes bytes;
  uint32_t split = 0;  // > 0: headers split across two mbufs
  double when;         // sort key: arrival order
};

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {
    const std::array<uint8_t, 16> v6a = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                         0,    0, 0, 0, 0, 0, 0, 1};
    const std::array<uint8_t, 16> v6b = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                         0,    0, 0, 0, 0, 0, 0, 2};
    for (int pair = 0; pair < 3; ++pair) {
      for (int k = 0; k < 3; ++k) {
        Tuple t;
        PacketSpec& s = t.spec;
        if (pair == 2) {
          s.v6 = true;
          s.src_ip = v6a;
          s.dst_ip = v6b;
        } else {
          s.src_ip = {10, uint8_t(pair + 1), 0, 1};
          s.dst_ip = {10, uint8_t(pair + 1), 0, 2};
        }
        s.proto = k == 2 ? IPPROTO_TCP : IPPROTO_UDP;
        s.sport = uint16_t(5000 + k);
        s.dport = 6000;
        s.df = false;
        t.ip_id = &ip_ids_[pair];
        tuples_.push_back(t);
      }
    }
  }
  int R(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }

  // The stream: events at increasing times; a fragmented datagram's
  // fragments are spread over the next few events.
  std::vector<Input> Stream(int events) {
    std::vector<Input> in;
    for (int e = 0; e < events; ++e) {
      const int ti = R(0, int(tuples_.size()) - 1);
      Tuple& t = tuples_[ti];
      const bool udp = t.spec.proto == IPPROTO_UDP;
      const int what = R(0, 9);
      if (udp && !t.spec.v6 && what < 3) {
        Fragmented(ti, e, &in);
      } else if (t.spec.v6 && udp && what == 3) {
        in.push_back(Input{ExtHeader(ti), 0, double(e)});
      } else {
        Bytes b = Plain(ti, what == 4 && udp ? 2 : 4);
        const uint32_t split = what == 5 ? uint32_t(R(20, 40)) : 0;
        in.push_back(Input{b, split, double(e)});
      }
    }
    std::stable_sort(in.begin(), in.end(), [](const Input& a, const Input& b) {
      return a.when < b.when;
    });
    return in;
  }

  int tuple_of(uint32_t id) const { return tuple_of_.at(id); }
  // The order group of an id: its 5-tuple -- or, for a fragment of a
  // datagram that does not reassemble cleanly (a fragment lost or
  // duplicated), that datagram's fragment set, ordered on its own (as the
  // independent pcap checker does: such fragments are not datagrams of
  // the 5-tuple).
  int64_t group_of(uint32_t id) const {
    auto it = unclean_set_of_.find(id);
    return it == unclean_set_of_.end() ? tuple_of(id) : it->second;
  }
  // A datagram that reassembles cleanly is one item (as the checker's
  // reassembly of the output sees it): its number, else 0.
  uint32_t clean_datagram_of(uint32_t id) const {
    auto it = clean_datagram_of_.find(id);
    return it == clean_datagram_of_.end() ? 0 : it->second;
  }

 private:
  uint32_t NewId(int tuple) {
    tuple_of_[next_id_] = tuple;
    return next_id_++;
  }

  // A UDP datagram / TCP segment of `blocks` blocks (UDP: 4 = full size,
  // 2 = short, ending a coalesced train).
  Bytes Plain(int ti, size_t blocks) {
    Tuple& t = tuples_[ti];
    PacketSpec s = t.spec;
    s.payload = Tagged(NewId(ti), blocks);
    s.ip_id = (*t.ip_id)++;
    if (s.proto == IPPROTO_TCP) {
      s.seq = t.seq;
      t.seq += uint32_t(s.payload.size());
      if (R(0, 9) == 0) s.tcp_flags |= 0x08;  // PSH
    }
    return Build(s);
  }

  // IPv6 with a hop-by-hop options header before UDP: passes unparsed.
  Bytes ExtHeader(int ti) {
    Bytes b = Plain(ti, 4);
    const size_t l3 = 14;
    const uint8_t nh = b[l3 + 6];
    b[l3 + 6] = 0;  // hop-by-hop
    const uint16_t plen = uint16_t((b[l3 + 4] << 8 | b[l3 + 5]) + 8);
    b[l3 + 4] = uint8_t(plen >> 8);
    b[l3 + 5] = uint8_t(plen);
    const uint8_t hbh[8] = {nh, 0, 1, 4, 0, 0, 0, 0};  // PadN
    b.insert(b.begin() + l3 + 40, hbh, hbh + 8);
    return b;
  }

  // A UDP datagram of 40 blocks (+ UDP header) in fragments of 64 bytes,
  // each fragment's blocks tagged with its own id; shuffled now and then,
  // a fragment duplicated (new id: overlapping bytes) or lost.
  void Fragmented(int ti, int e, std::vector<Input>* in) {
    Tuple& t = tuples_[ti];
    PacketSpec s = t.spec;
    s.ip_id = (*t.ip_id)++;
    s.payload.assign(40 * 8, 0);
    Bytes d = Build(s);
    const size_t l4 = 14 + 20;
    std::vector<uint32_t> ids;
    const size_t nfrag = (8 + s.payload.size() + 63) / 64;
    for (size_t j = 0; j < nfrag; ++j) ids.push_back(NewId(ti));
    // IP-payload block k (k >= 1; block 0 is the UDP header) lies in
    // fragment k / 8.
    for (size_t k = 1; k * 8 < 8 + s.payload.size(); ++k) {
      const Bytes tag = Tagged(ids[k / 8], 1);
      std::copy(tag.begin(), tag.end(), d.begin() + l4 + 8 * k);
    }
    FixChecksums(&d);
    std::vector<Bytes> frags = Fragment(d, 64);
    const bool shuffle = R(0, 2) == 0;
    const double spread = R(0, 1) ? 0.1 : 0.9;  // interleaved with more
    bool unclean = false;
    for (size_t j = 0; j < frags.size(); ++j) {
      if (R(0, 14) == 0) {
        tuple_of_.erase(ids[j]);  // lost: never comes
        unclean = true;
        continue;
      }
      const double when =
          e + (shuffle ? R(0, 9) * spread : double(j) * spread / 10);
      in->push_back(Input{frags[j], 0, when});
      if (R(0, 14) == 0) {  // a duplicate with other bytes (an overlap)
        Bytes dup = frags[j];
        const uint32_t id = NewId(ti);
        for (size_t i = l4; i + 8 <= dup.size(); i += 8) {
          if (memcmp(&dup[i], kMagic, 4) == 0) {
            const Bytes tag = Tagged(id, 1);
            std::copy(tag.begin(), tag.end(), dup.begin() + i);
          }
        }
        in->push_back(Input{dup, 0, when + 0.01});
        ids.push_back(id);
        unclean = true;
      }
    }
    for (uint32_t id : ids) {
      if (unclean) {
        unclean_set_of_[id] = 1000 + int64_t(ids[0]);
      } else {
        clean_datagram_of_[id] = ids[0];
      }
    }
  }

  std::mt19937 rng_;
  uint16_t ip_ids_[3] = {1, 1, 1};
  std::vector<Tuple> tuples_;
  std::map<uint32_t, int> tuple_of_;
  std::map<uint32_t, int64_t> unclean_set_of_;
  std::map<uint32_t, uint32_t> clean_datagram_of_;
  uint32_t next_id_ = 1;
};

struct Param {
  Mode mode;
  bool burst;  // ProcessBurst (fast path) instead of Parse + Process
};

class CrossTableOrder : public EngineTest,
                        public ::testing::WithParamInterface<Param> {
 protected:
  void Feed(const std::vector<Input>& in, std::mt19937* rng) {
    const Mode mode = GetParam().mode;
    for (size_t i = 0; i < in.size();) {
      const size_t n = std::min<size_t>(in.size() - i, 1 + (*rng)() % 40);
      std::vector<rte_mbuf*> ms;
      for (size_t k = i; k < i + n; ++k) {
        rte_mbuf* m = ToMbuf(pool_, in[k].bytes, in[k].split);
        ASSERT_NE(m, nullptr);
        m->port = 0;
        ms.push_back(m);
      }
      if (GetParam().burst) {
        ctx_->ProcessBurst(ms.data(), uint16_t(n), mode, 0, &col_.out);
      } else {
        for (rte_mbuf* m : ms) {
          ParsedPacket p;
          Parse(m, ParseConfig{}, &p);
          ctx_->Process(m, p, mode, 0, &col_.out);
        }
      }
      if ((*rng)() % 4 == 0) ctx_->FlushOldest(&col_.out, 1);
      i += n;
    }
  }
};

TEST_P(CrossTableOrder, EachTupleKeepsArrivalOrder) {
  const char* base = getenv("GRO_SEED_BASE");
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(seed);
    Gen g(seed + (base ? uint32_t(atoi(base)) : 0));
    std::mt19937 rng(seed);
    ContextConfig cfg;
    cfg.max_segments = seed % 3 ? 64 : 5;
    Make(cfg);
    const std::vector<Input> in = g.Stream(150);
    std::map<uint32_t, size_t> arrival;  // id -> input index
    for (size_t i = 0; i < in.size(); ++i) {
      for (uint32_t id : IdsIn(in[i].bytes)) arrival[id] = i;
    }
    Feed(in, &rng);
    // Items in output order: every output frame (each list member), but
    // the pieces of a datagram that reassembles cleanly form one item at
    // the position of its first piece.
    struct Item {
      size_t amin = SIZE_MAX, amax = 0;
      int tuple = -1;
      int64_t group = 0;
      std::string what;
    };
    std::vector<Item> items;
    std::map<uint32_t, size_t> item_of_datagram;
    std::map<uint32_t, int> seen;
    size_t index = 0;
    for (const OutPkt& o : Out()) {
      for (const Bytes& member : o.members) {  // (lists: each member)
        const std::vector<uint32_t> ids = IdsIn(member);
        ASSERT_FALSE(ids.empty()) << "output " << index << " carries no id";
        const uint32_t dgram = g.clean_datagram_of(ids[0]);
        size_t at = items.size();
        if (dgram != 0 && item_of_datagram.count(dgram)) {
          at = item_of_datagram[dgram];
        } else {
          items.push_back(Item{});
          items.back().tuple = g.tuple_of(ids[0]);
          items.back().group = g.group_of(ids[0]);
          items.back().what = "output " + std::to_string(index);
          if (dgram != 0) item_of_datagram[dgram] = at;
        }
        Item& it = items[at];
        for (uint32_t id : ids) {
          ++seen[id];
          ASSERT_TRUE(arrival.count(id)) << id;
          it.amin = std::min(it.amin, arrival[id]);
          it.amax = std::max(it.amax, arrival[id]);
          EXPECT_EQ(g.tuple_of(id), it.tuple) << "output " << index << " mixes";
          EXPECT_EQ(g.clean_datagram_of(id), dgram) << "output " << index;
        }
        ++index;
      }
    }
    // Per order group: the latest first-arrival among items so far.
    std::map<int64_t, const Item*> top;
    for (const Item& it : items) {
      auto t = top.find(it.group);
      if (t != top.end()) {
        EXPECT_GE(it.amax, t->second->amin)
            << it.what << " (inputs " << it.amin << ".." << it.amax
            << ") left after " << t->second->what << " (inputs "
            << t->second->amin << "..) of tuple " << it.tuple << " group "
            << it.group;
      }
      if (t == top.end() || it.amin > t->second->amin) top[it.group] = &it;
    }
    for (const auto& [id, at] : arrival) {
      EXPECT_EQ(seen[id], 1) << "id " << id << " (input " << at << ")";
    }
    ctx_->FlushAll(&col_.out);
    ctx_.reset();
    if (HasFailure()) break;
  }
}

INSTANTIATE_TEST_SUITE_P(
    ModesAndPaths, CrossTableOrder,
    ::testing::Values(Param{Mode::kMerge, false}, Param{Mode::kMerge, true},
                      Param{Mode::kList, false}, Param{Mode::kList, true}),
    [](const ::testing::TestParamInfo<Param>& i) {
      return std::string(i.param.mode == Mode::kMerge ? "merge" : "list") +
             (i.param.burst ? "_burst" : "_process");
    });

// The case from the issue: a small unfragmented datagram is held (UDP
// coalescing), then fragmented datagrams of the same 5-tuple complete: the
// held datagram leaves first.
TEST_F(EngineTest, HeldDatagramLeavesBeforeLaterFragmentsOfItsTuple) {
  Make();
  PacketSpec s;
  s.proto = IPPROTO_UDP;
  s.df = false;
  s.payload = Tagged(1, 4);
  const Bytes small = Build(s);
  s.ip_id = 9;
  s.payload = Tagged(2, 200);
  const std::vector<Bytes> frags = Fragment(Build(s), 800);
  Feed(small);
  for (const Bytes& f : frags) Feed(f);
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].bytes == small);
  EXPECT_EQ(IdsIn(out[1].bytes), std::vector<uint32_t>{2});
}

// An IPv6 packet with an extension header (passes unparsed) does not
// overtake what its 5-tuple holds.
TEST_F(EngineTest, ExtensionHeaderPacketDoesNotOvertakeItsTuple) {
  Make();
  PacketSpec s = TcpSegment(1000, 0, true);
  s.proto = IPPROTO_UDP;
  s.payload = Tagged(1, 4);
  const Bytes held = Build(s);
  s.payload = Tagged(2, 4);
  Bytes ext = Build(s);
  ext[14 + 6] = 0;
  ext[14 + 5] += 8;
  const uint8_t hbh[8] = {IPPROTO_UDP, 0, 1, 4, 0, 0, 0, 0};
  ext.insert(ext.begin() + 54, hbh, hbh + 8);
  Feed(held);
  Feed(ext);
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].bytes == held);
  EXPECT_TRUE(out[1].bytes == ext);
}

// A packet whose headers are split across mbufs (passes unparsed) does not
// overtake what its 5-tuple holds.
TEST_F(EngineTest, SplitHeaderPacketDoesNotOvertakeItsTuple) {
  Make();
  const Bytes a = Build(TcpSegment(1000, 100)),
              b = Build(TcpSegment(1100, 100));
  Feed(a);
  Feed(b, Mode::kMerge, 0, /*split=*/24);  // inside the IPv4 header
  auto out = Out();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].bytes == a);
  EXPECT_TRUE(out[1].bytes == b);
  EXPECT_EQ(ctx_->counters().passthrough[kPassMultiSeg], 1u);
}

// The fast path (ProcessBurst) reviving an idle plain flow checks the
// address pair too: a datagram that revives its 5-tuple's entry while a
// fragment of that tuple is held sends the fragment out first -- even when
// the revived flow is emitted at once (max_segments reached) and the
// fragment's flow stays incomplete.
TEST_F(EngineTest, FastPathRevivalDoesNotOvertakeAHeldFragment) {
  ContextConfig cfg;
  cfg.max_segments = 2;
  Make(cfg);
  PacketSpec s;
  s.proto = IPPROTO_UDP;
  s.df = false;
  auto burst = [&](const std::vector<Bytes>& frames) {
    std::vector<rte_mbuf*> ms;
    for (const Bytes& b : frames) {
      ms.push_back(ToMbuf(pool_, b));
      ASSERT_NE(ms.back(), nullptr);
      ms.back()->port = 0;
    }
    ctx_->ProcessBurst(ms.data(), uint16_t(ms.size()), Mode::kMerge, 0,
                       &col_.out);
  };
  auto datagram = [&](uint32_t id, size_t blocks) {
    s.ip_id = uint16_t(id);
    s.payload = Tagged(id, blocks);
    return Build(s);
  };
  // Datagrams 1 and 2 give the tuple's flow a template; emitted, its
  // entry stays idle.
  burst({datagram(1, 4), datagram(2, 4)});
  ctx_->FlushAll(&col_.out);
  // The first fragment of datagram 3 (more to come) is held.
  const std::vector<Bytes> frags = Fragment(datagram(3, 200), 800);
  ASSERT_GT(frags.size(), 1u);
  burst({frags[0]});
  // Datagrams 4 and 5 match the idle entry's template.  (A burst's first
  // packet takes the full path; one of another address pair goes first.)
  PacketSpec other = s;
  other.src_ip = {10, 9, 9, 9};
  other.payload = Tagged(6, 4);
  burst({Build(other), datagram(4, 4), datagram(5, 4)});
  ctx_->FlushAll(&col_.out);
  std::vector<uint32_t> order;
  for (const OutPkt& o : Out()) {
    for (const Bytes& member : o.members) {
      for (uint32_t id : IdsIn(member)) order.push_back(id);
    }
  }
  // (6 is of another pair; it may leave anywhere.)
  order.erase(std::remove(order.begin(), order.end(), 6u), order.end());
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace grod::gro::testing
