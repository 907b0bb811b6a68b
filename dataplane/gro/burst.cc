// Burst mode on top of a cached per-thread Context.
#include <cstring>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/gro/peek_hash.h"

namespace grod::gro {
namespace {

bool SameConfig(const ContextConfig& a, const ContextConfig& b) {
  return a.max_flows == b.max_flows &&
         a.max_held_packets == b.max_held_packets &&
         a.gro_types == b.gro_types &&
         a.max_merged_bytes == b.max_merged_bytes &&
         a.max_segments == b.max_segments && a.vxlan_port == b.vxlan_port &&
         a.verify_checksums == b.verify_checksums &&
         a.socket_id == b.socket_id && a.hash_seed == b.hash_seed;
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

// Marks the packets whose flow has no other packet in the burst (by the
// peeked hash: equal hashes of two flows only cost the shortcut), for
// ProcessAlone().  Packets the peek cannot hash are never marked.
void MarkAlone(rte_mbuf* const* pkts, uint16_t n, uint16_t vxlan_port,
               bool* alone) {
  constexpr uint32_t kSlots = 64;  // > 32 packets: short probes
  uint32_t hash[32], slot_hash[kSlots];
  uint8_t slot_count[kSlots] = {};
  uint8_t slot_of[32];
  bool hashed[32];
  for (uint16_t i = 0; i < n; ++i) {
    bool long_hdr;
    hashed[i] = PeekHash(pkts[i], rte_pktmbuf_mtod(pkts[i], const uint8_t*),
                         vxlan_port, &hash[i], &long_hdr);
    if (!hashed[i]) continue;
    uint32_t s = hash[i] & (kSlots - 1);
    while (slot_count[s] != 0 && slot_hash[s] != hash[i]) {
      s = (s + 1) & (kSlots - 1);
    }
    slot_hash[s] = hash[i];
    slot_count[s]++;
    slot_of[i] = uint8_t(s);
  }
  for (uint16_t i = 0; i < n; ++i) {
    alone[i] = hashed[i] && slot_count[slot_of[i]] == 1;
  }
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
    if (!ctx->mostly_single_packet_flows() || mode == Mode::kBypass) {
      ctx->ProcessBurst(chunk, k, mode, 0, &out);
      continue;
    }
    // Flows rarely recur: a packet alone in its flow in this burst is
    // emitted at once (as the flush at the end would), without a flow
    // entry; the others go through the engine, in arrival order.
    bool alone[32];
    MarkAlone(chunk, k, cfg.vxlan_port, alone);
    for (uint16_t a = 0; a < k;) {
      if (alone[a]) {
        ctx->ProcessAlone(chunk[a++], mode, kFlushBurstEnd, &out);
        continue;
      }
      uint16_t b = a + 1;
      while (b < k && !alone[b]) ++b;
      ctx->ProcessBurst(chunk + a, uint16_t(b - a), mode, 0, &out);
      a = b;
    }
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
