// The benchmark's traffic: full-size TCP4 / UDP4 segments of many flows,
// arriving in per-flow trains the way a sender's TSO bursts reach a NIC.
#ifndef GROD_DATAPLANE_BENCH_TRAFFIC_H_
#define GROD_DATAPLANE_BENCH_TRAFFIC_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/traffic/sample_traffic.h"

namespace grod::dataplane::bench {

using Frames = std::vector<std::vector<uint8_t>>;

constexpr size_t kTcpPayload = 1448;
constexpr size_t kUdpPayload = 1400;
// Ethernet + IPv4 + TCP headers without options: where a TCP4 frame's
// payload starts (the flush sections write a timestamp there).
constexpr size_t kTcp4PayloadOffset = 14 + 20 + 20;
constexpr uint16_t kBurst = 32;  // RX burst size, as Worker::kBurst

enum class Proto { kTcp4, kUdp4 };
const char* ProtoName(Proto p);

// Destination of flow f: one address for all, or (spread) a pseudo-random
// one per flow, so route-hint lookups do not all walk the same path.
FlowAddress FlowOf(uint32_t f, bool spread = false);

// `packets` full-size segments of `flows` flows: trains of `train`
// consecutive segments of one flow, the flow of each train picked at random.
Frames MakeTrains(Proto proto, uint32_t flows, uint32_t packets, uint32_t train,
                  uint32_t seed, bool spread = false);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_TRAFFIC_H_
