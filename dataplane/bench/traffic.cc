#include "dataplane/bench/traffic.h"

#include <random>

namespace grod::dataplane::bench {

const char* ProtoName(Proto p) { return p == Proto::kTcp4 ? "TCP4" : "UDP4"; }

FlowAddress FlowOf(uint32_t f, bool spread) {
  FlowAddress a;
  a.src_v4 = 0x0a000001 + f;
  a.dst_v4 = spread ? (f + 1) * 2654435761u : 0x0a640001;
  a.sport = uint16_t(10000 + f);
  a.dport = 5201;
  return a;
}

Frames MakeTrains(Proto proto, uint32_t flows, uint32_t packets, uint32_t train,
                  uint32_t seed, bool spread) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> next(flows, 0);
  Frames out;
  out.reserve(packets);
  while (out.size() < packets) {
    const uint32_t f = flows == 1 ? 0 : rng() % flows;
    for (uint32_t k = 0; k < train && out.size() < packets; ++k) {
      const uint32_t i = next[f]++;
      const FlowAddress a = FlowOf(f, spread);
      out.push_back(proto == Proto::kTcp4
                        ? TcpFrame(a, 1 + i * kTcpPayload, kTcpPayload)
                        : UdpFrame(a, i, kUdpPayload));
    }
  }
  return out;
}

}  // namespace grod::dataplane::bench
