// Burst mode on top of a cached per-thread Context.
#include <cstring>

#include "dataplane/gro/gro_engine.h"

namespace grod::gro {
namespace {

bool SameConfig(const ContextConfig& a, const ContextConfig& b) {
  return a.max_flows == b.max_flows &&
         a.max_held_packets == b.max_held_packets &&
         a.gro_types == b.gro_types &&
         a.max_merged_bytes == b.max_merged_bytes &&
         a.max_segments == b.max_segments && a.vxlan_port == b.vxlan_port &&
         a.verify_checksums == b.verify_checksums && a.socket_id == b.socket_id;
}

struct BurstSink {
  rte_mbuf** pkts;
  uint16_t written;
};

// Outputs are written back into the caller's array.  Safe because every
// output carries >= 1 input, so after reading input i at most i + 1 outputs
// exist: writes never reach an unread slot (the DPDK bug class "burst flush
// overwriting unprocessed packets").
void DrainToBurst(Output* out, void* arg) {
  auto* s = static_cast<BurstSink*>(arg);
  for (uint16_t i = 0; i < out->count; ++i)
    s->pkts[s->written++] = out->pkts[i];
  out->count = 0;
}

}  // namespace

uint16_t ReassembleBurst(rte_mbuf** pkts, uint16_t n, Mode mode,
                         const ContextConfig& cfg) {
  thread_local std::unique_ptr<Context> ctx;
  thread_local ContextConfig ctx_cfg;
  if (ctx == nullptr || !SameConfig(ctx_cfg, cfg)) {
    ctx = Context::Create(cfg);
    ctx_cfg = cfg;
    if (ctx == nullptr) return n;  // no memory: packets pass unchanged
  }
  rte_mbuf* buf[32];
  BurstSink sink{pkts, 0};
  Output out{buf, 0, 32, DrainToBurst, &sink};
  for (uint16_t i = 0; i < n; i += 32) {
    const uint16_t k = n - i < 32 ? n - i : 32;
    // pkts[i..i+k) are read before any output of this chunk is written
    // back (outputs never outnumber the inputs consumed).
    rte_mbuf* chunk[32];
    memcpy(chunk, pkts + i, k * sizeof(chunk[0]));
    ctx->ProcessBurst(chunk, k, mode, 0, &out);
  }
  // Flows that rarely recur across bursts (most held one packet): reset
  // the table at once rather than keep idle entries that would each be
  // reclaimed by a later flow.
  if (ctx->mostly_single_packet_flows()) {
    ctx->FlushAllAndForget(&out, kFlushBurstEnd);
  } else {
    ctx->FlushAll(&out, kFlushBurstEnd);
  }
  DrainToBurst(&out, &sink);
  return sink.written;
}

}  // namespace grod::gro
