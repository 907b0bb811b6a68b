// Shared fixture for engine tests: a context, a collector, and helpers that
// turn outputs into plain values (and free them) so tests compare bytes.
#ifndef GROD_DATAPLANE_TESTING_GRO_TEST_UTIL_H_
#define GROD_DATAPLANE_TESTING_GRO_TEST_UTIL_H_

#include <memory>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/dpdk_env.h"
#include "dataplane/testing/packet_builder.h"

namespace grod::gro::testing {

struct OutPkt {
  Bytes bytes;                 // whole packet (list: the head only)
  std::vector<Bytes> members;  // list members (Unlink), else {bytes}
  uint64_t ol_flags = 0;
  uint16_t tso_segsz = 0, nb_segs = 0;
  uint16_t l2_len = 0, l3_len = 0, l4_len = 0;
  uint16_t outer_l2_len = 0, outer_l3_len = 0;
  uint32_t packet_type = 0;
  bool list = false;
};

// Describes and frees one output packet (unlinking lists).
OutPkt Consume(rte_mbuf* m);

// A TCP segment of `len` payload bytes at `seq` (payload derived from seq)
// between two fixed hosts, over IPv4 or IPv6.
PacketSpec TcpSegment(uint32_t seq, size_t len, bool v6 = false);

// Copy of `frame` with the L4 checksum replaced by the TSO pseudo-header
// sum (length 0) and, for VXLAN, the outer UDP checksum zeroed over IPv4 /
// the same pseudo sum over IPv6: what a merged packet's headers look like.
Bytes AsMergedHeaders(Bytes frame, bool vxlan);

class EngineTest : public MbufTest {
 protected:
  void Make(const ContextConfig& cfg = {}) {
    ctx_ = Context::Create(cfg);
    ASSERT_NE(ctx_, nullptr);
  }
  void TearDown() override {
    if (ctx_) {
      ctx_->FlushAll(&col_.out);
      ctx_.reset();
    }
    for (rte_mbuf* m : col_.Take()) FreePacket(m);
    col_.pkts.clear();
    MbufTest::TearDown();
  }
  // Parses and processes one frame.
  void Feed(const Bytes& b, Mode mode = Mode::kMerge, uint64_t now = 0,
            uint32_t split = 0) {
    rte_mbuf* m = ToMbuf(pool_, b, split);
    ASSERT_NE(m, nullptr);
    ParsedPacket p;
    Parse(m, ParseConfig{ctx_->config().vxlan_port}, &p);
    ctx_->Process(m, p, mode, now, &col_.out);
  }
  // Outputs so far (flushing everything first if `flush`), consumed.
  std::vector<OutPkt> Out(bool flush = true) {
    if (flush) ctx_->FlushAll(&col_.out);
    std::vector<OutPkt> v;
    for (rte_mbuf* m : col_.Take()) v.push_back(Consume(m));
    col_.pkts.clear();
    return v;
  }
  std::unique_ptr<Context> ctx_;
  Collector col_;
};

}  // namespace grod::gro::testing

#endif  // GROD_DATAPLANE_TESTING_GRO_TEST_UTIL_H_
