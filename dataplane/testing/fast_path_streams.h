// Seeded packet streams for the fast path's differential tests: mostly
// mergeable TCP/UDP flows with every header field the fast path masks,
// checks or compares mutated now and then, NIC checksum verdicts, and a
// fixture that turns them into mbufs and outputs into comparable strings.
#ifndef GROD_DATAPLANE_TESTING_FAST_PATH_STREAMS_H_
#define GROD_DATAPLANE_TESTING_FAST_PATH_STREAMS_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/testing/gro_test_util.h"

namespace grod::gro::testing {

// One input packet and how it reaches the engine.
struct StreamPacket {
  Bytes bytes;
  Mode mode;
  uint16_t port;
  uint32_t split;     // > 0: multi-segment mbuf
  bool at_end;        // data placed at the very end of the buffer
  uint64_t rx_flags;  // the NIC's checksum verdict (RX ol_flags)
};

// Seeded generator of flows and their packets (StreamGen(seed) gives the
// same stream every run).
class StreamGen {
 public:
  explicit StreamGen(uint32_t seed) : rng_(seed) {}
  int R(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool P(double p) { return std::bernoulli_distribution(p)(rng_); }

  struct Flow {
    PacketSpec s;
    Mode mode;
    uint16_t port;
    int mss;
    bool vxlan = false;
    bool psh_often = false;  // PSH on many segments (templates from PSH)
  };

  // A random flow: TCP/UDP over IPv4/IPv6 or VXLAN, VLANs, options, MSS,
  // mode and port.
  Flow NewFlow(int id);

  // The flow's headers (in VXLAN if it is tunnelled) as a frame.
  Bytes Frame(const Flow& f);

  // Next packet of `f`, possibly mutated, with a random NIC checksum
  // verdict.
  StreamPacket Next(Flow* fp);

 private:
  // Raw byte surgery on a field the fast path masks or checks.
  void Surgery(Bytes* bp, int what);
  std::mt19937 rng_;
};

// An output as one string (bytes and metadata, list members), so paths can
// be compared output by output.
std::string Describe(const OutPkt& o);

// Engine tests over StreamGen's streams (the parameter is the seed).
class FastPathTest : public MbufTest,
                     public ::testing::WithParamInterface<uint32_t> {
 protected:
  rte_mbuf* Make(const StreamPacket& in) {
    rte_mbuf* m = ToMbuf(pool_, in.bytes, in.split);
    if (m == nullptr) return nullptr;
    m->port = in.port;
    m->ol_flags |= in.rx_flags;
    if (in.at_end && m->nb_segs == 1) {
      // Move the data to the end of the buffer: whole-chunk reads past
      // the packet would leave the buffer.
      const uint16_t len = m->data_len;
      const uint16_t off = uint16_t(m->buf_len - len);
      memmove(static_cast<uint8_t*>(m->buf_addr) + off,
              rte_pktmbuf_mtod(m, uint8_t*), len);
      m->data_off = off;
    }
    return m;
  }
  static std::vector<std::string> Drain(Collector* c) {
    std::vector<std::string> v;
    for (rte_mbuf* m : c->Take()) v.push_back(Describe(Consume(m)));
    c->pkts.clear();
    return v;
  }
};

}  // namespace grod::gro::testing

#endif  // GROD_DATAPLANE_TESTING_FAST_PATH_STREAMS_H_
