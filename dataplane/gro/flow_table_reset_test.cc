// FlowTable::Reset() (burst mode's end-of-call reset) touches only the
// entries in use: after it, whatever mix of live, idle and freed entries,
// fragment and plain flows, counted or uncounted address pairs the table
// held, the table must be as after Create() -- every slot empty, every
// entry free once, no shape referenced, no flow counted for any address
// pair -- and count exactly again from there.  The expected counts are the
// test's own (which flows it made live, of which pair and kind).
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "dataplane/gro/flow_table.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {
namespace {

constexpr uint32_t kMaxFlows = 64;
constexpr int kPairs = 5;

struct TestFlow {
  ParsedPacket p;  // key and hash, from the parser
  int pair;
  bool frag;
};

class FlowTableReset : public MbufTest {
 protected:
  void SetUp() override {
    MbufTest::SetUp();
    t_ = FlowTable::Create(kMaxFlows, SOCKET_ID_ANY, 0x5eed);
    ASSERT_NE(t_, nullptr);
    // Flow i: pair i % kPairs (source 10.0.pair.1); every fourth a UDP
    // fragment (its datagram's first), the others TCP.
    for (int i = 0; i < 48; ++i) {
      PacketSpec s;
      const int pair = i % kPairs;
      s.src_ip = {10, 0, uint8_t(pair), 1};
      s.sport = uint16_t(1000 + i);
      s.payload = Payload(160, uint32_t(i));
      const bool frag = i % 4 == 0;
      Bytes b;
      if (frag) {
        s.proto = IPPROTO_UDP;
        s.df = false;
        s.ip_id = uint16_t(100 + i);
        b = Fragment(Build(s), 64)[0];
      } else {
        b = Build(s);
      }
      rte_mbuf* m = ToMbuf(pool_, b);
      ASSERT_NE(m, nullptr);
      m->port = 0;
      TestFlow f{ParsedPacket{}, pair, frag};
      Parse(m, ParseConfig{}, &f.p);
      ASSERT_TRUE(f.p.key_valid);
      ASSERT_EQ(f.p.type == kIpv4Frag, frag);
      if (!frag && tmpl_ == nullptr) {
        tmpl_ = m;  // a plain TCP packet for SetTemplate()
      } else {
        rte_pktmbuf_free(m);
      }
      flows_.push_back(f);
    }
    ASSERT_NE(tmpl_, nullptr);
    ParsedPacket p;
    Parse(tmpl_, ParseConfig{}, &p);
    layout_ = LayoutOf(p, Mode::kMerge);
    attrs_ = p.attrs;
  }
  void TearDown() override {
    FlowTable::Destroy(t_);
    rte_pktmbuf_free(tmpl_);
    MbufTest::TearDown();
  }
  // Makes flows_[i] live holding one packet.
  Flow* Hold(int i) {
    const TestFlow& tf = flows_[i];
    Flow* f = t_->Insert(tf.p.key, tf.p.hash, 0);
    if (f != nullptr) {
      f->nruns = 1;
      f->run0 = gro::Run{};
      f->run0.segs = 1;
    }
    return f;
  }
  // The table's pair counts are the live flows of each pair and kind:
  // fragment flows always, plain flows after CountOthers() (`others`: call
  // it and check them; it starts counting if nobody did lately).
  void ExpectCounts(const std::vector<bool>& live, bool others) {
    if (others) t_->CountOthers();
    int frag_live = 0;
    for (int pair = 0; pair < kPairs; ++pair) {
      uint32_t want[2] = {0, 0};  // [frag]
      uint32_t tag = 0;
      for (size_t i = 0; i < flows_.size(); ++i) {
        if (flows_[i].pair != pair) continue;
        tag = PairTag(flows_[i].p.key);
        if (live[i]) ++want[flows_[i].frag];
      }
      frag_live += int(want[1]);
      if (others) {
        EXPECT_EQ(t_->PairLive(tag, false), want[0]) << "pair " << pair;
      }
      EXPECT_EQ(t_->PairLive(tag, true), want[1]) << "pair " << pair;
    }
    EXPECT_EQ(t_->frag_live(), uint32_t(frag_live));
  }
  void ExpectEmpty(bool others) {
    EXPECT_EQ(t_->size(), 0u);
    EXPECT_EQ(t_->entries(), 0u);
    EXPECT_EQ(t_->oldest(), nullptr);
    EXPECT_EQ(t_->held_packets, 0u);
    const FlowTable::Slots s = t_->slots();
    for (uint32_t b = 0; b <= s.home_mask / kBucketSlots; ++b) {
      for (uint32_t j = 0; j < kBucketSlots; ++j) {
        EXPECT_EQ(s.buckets[b].idx[j], kNil) << "bucket " << b << " slot " << j;
      }
    }
    for (int i = 0; i < kMaxShapes; ++i) {
      EXPECT_EQ(t_->shape(uint8_t(i)).refs, 0u) << "shape " << i;
    }
    for (const TestFlow& tf : flows_) {
      EXPECT_EQ(t_->Find(tf.p.key, tf.p.hash), nullptr);
    }
    ExpectCounts(std::vector<bool>(flows_.size(), false), others);
  }

  FlowTable* t_ = nullptr;
  std::vector<TestFlow> flows_;
  rte_mbuf* tmpl_ = nullptr;
  Layout layout_;
  FlowAttrs attrs_;
};

TEST_F(FlowTableReset, LeavesTheTableAsCreatedAndCountsExactlyAfter) {
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE(round);
    // Rounds 0-2: nobody reads the plain flows' pair counts (they are not
    // kept); 3-5: a reader did before the flows were made (kept).
    const bool others = round >= 3;
    if (round == 3) t_->CountOthers();
    std::vector<bool> live(flows_.size(), false);
    for (size_t i = 0; i < flows_.size(); ++i) {
      // A different subset each round.
      if ((i + size_t(round)) % 3 == 0) continue;
      Flow* f = Hold(int(i));
      ASSERT_NE(f, nullptr) << "flow " << i;
      live[i] = true;
      t_->held_packets++;
      if (flows_[i].frag || i % 5 != 1) continue;
      // Some plain flows get a template and are emitted: idle entries.
      t_->SetTemplate(f, tmpl_, layout_, attrs_);
      ASSERT_NE(f->shape, kNoShape);
      if (i % 2) {
        t_->Retire(f);
        live[i] = false;
        t_->held_packets--;
      }
    }
    // A few template-less flows emitted: freed entries.
    for (size_t i = 2; i < flows_.size(); i += 7) {
      if (!live[i]) continue;
      Flow* f = t_->Find(flows_[i].p.key, flows_[i].p.hash);
      ASSERT_NE(f, nullptr);
      if (f->shape != kNoShape) continue;
      t_->Retire(f);
      live[i] = false;
      t_->held_packets--;
    }
    ExpectCounts(live, others);
    t_->Reset();
    ExpectEmpty(others);
  }
  // Every entry is free exactly once: max_flows new flows, each its own.
  std::set<uint32_t> idx;
  for (int i = 0; i < int(kMaxFlows); ++i) {
    TestFlow tf = flows_[size_t(i) % flows_.size()];
    tf.p.key.dport = uint16_t(7000 + i);  // 64 distinct keys
    Flow* f = t_->Insert(tf.p.key, tf.p.hash + uint32_t(i), 0);
    ASSERT_NE(f, nullptr) << "flow " << i;
    f->nruns = 1;
    idx.insert(t_->index(f));
  }
  EXPECT_EQ(idx.size(), size_t(kMaxFlows));
  EXPECT_TRUE(t_->full());
  while (Flow* f = t_->oldest()) t_->Retire(f);
}

}  // namespace
}  // namespace grod::gro::testing
