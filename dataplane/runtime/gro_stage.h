// A worker lcore's GRO stage: classifies each received packet to a tenant,
// picks its mode from the tenant's route hints, runs it through that
// tenant's GRO context on this lcore, and applies each tenant's flush
// policy. It owns the lcore's contexts; the control side changes them only
// through WorkerCommands executed here, between bursts.
#ifndef GROD_DATAPLANE_RUNTIME_GRO_STAGE_H_
#define GROD_DATAPLANE_RUNTIME_GRO_STAGE_H_

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <memory>

#include "common/dataplane_types.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/worker_command.h"
#include "dataplane/tenant/config_snapshot.h"

namespace grod::dataplane {

class GroStage {
 public:
  GroStage(uint16_t vxlan_port, Egress* egress);
  ~GroStage();
  GroStage(const GroStage&) = delete;
  GroStage& operator=(const GroStage&) = delete;

  // Returns false if a context could not be created (out of memory); the
  // slot then bypasses GRO, which loses nothing.
  bool Execute(const WorkerCommand& cmd);

  // Call once per loop iteration with the snapshot used for it: if
  // classification changed since the last call, flushes what the tenants
  // whose traffic may have moved hold (TenantRuntime::reclassified_epoch),
  // and nothing of the others.
  void BeginIteration(const ConfigSnapshot& snap);

  void ProcessBurst(const ConfigSnapshot& snap, rte_mbuf** pkts, uint16_t n,
                    uint64_t now_tsc);

  // ProcessBurst() for a burst that all arrived on `port` (m->port set),
  // `bytes` their pkt_len sum.  If the snapshot says no header of that
  // port's packets matters (ConfigSnapshot::whole_port: one tenant in
  // BYPASS without route hints, or none at all), the burst goes to egress
  // whole, unread: the tenant's counters grow once per burst, after its
  // context emitted anything it still held (so nothing is overtaken).
  void ProcessPortBurst(const ConfigSnapshot& snap, uint16_t port,
                        rte_mbuf** pkts, uint16_t n, uint64_t bytes,
                        uint64_t now_tsc);

  // Flows the TIMEOUT and ADAPTIVE policies may emit per call, over all
  // tenants: many flows often expire together (one timeout after a burst
  // of new flows), and emitting 10k of them at ~30-150 ns each (cold flow
  // entries and mbufs, software GSO at egress) would stall RX for 0.3-1.5
  // ms, while a 1024-descriptor RX ring lasts ~70 us at 10 Gbit/s of
  // 64-byte frames.  256 flows cost ~8-40 us, which the ring absorbs, and
  // exceed the new flows one iteration can bring (32 per polled RX queue,
  // Worker::kBurst) for up to 8 queues per worker, so a backlog shrinks
  // every iteration.
  static constexpr uint32_t kFlushBudget = 256;

  // Applies every tenant's flush policy; `busy` = the RX queues returned
  // full bursts this iteration (ADAPTIVE holds only then).  TIMEOUT and
  // ADAPTIVE tenants emit at most kFlushBudget flows in total, each tenant
  // oldest first; when the budget runs out, the tenants after the last one
  // served go first next time.  Returns true then: flows that are due may
  // still be held, so the caller should call again soon (not sleep).
  // PER_BURST tenants are flushed whole: they hold at most what arrived
  // since the last call (once more after a switch from another policy).
  bool FlushByPolicy(const ConfigSnapshot& snap, uint64_t now_tsc, bool busy);

  // The mbuf pool runs low: emits up to `max_flows` held flows, oldest
  // first, from the tenant holding the most packets, then the next largest,
  // and returns how many. Whole flows, in order, like FlushByPolicy.
  uint32_t RelievePressure(uint32_t max_flows);

  // Everything, unbudgeted: shutdown must not leave anything held.
  void FlushAll(gro::FlushReason reason);

  // Control side, while no command is in flight: adds this lcore's counters
  // for `slot` (live context + contexts it replaced) into `out`.
  void AddCounters(uint16_t slot, TenantCounters* out) const;
  // Packets no tenant claimed (bypassed GRO).
  const uint64_t& unmatched_packets() const { return unmatched_packets_; }
  const uint64_t& unmatched_bytes() const { return unmatched_bytes_; }

 private:
  static void Drain(gro::Output* out, void* arg);
  void Retire(uint16_t slot);
  void AddLive(uint16_t slot);
  void RemoveLive(uint16_t slot);

  const gro::ParseConfig parse_config_;
  Egress* const egress_;
  std::array<std::unique_ptr<gro::Context>, kMaxTenants> contexts_;
  // Counters of contexts this lcore replaced, so tenant counters never go
  // backwards when a tenant's settings change.
  std::array<gro::Counters, kMaxTenants> retired_{};
  // Per slot: MERGE packets linked instead, as their egress port cannot
  // take them merged (TenantCounters::merge_as_list_packets).
  std::array<uint64_t, kMaxTenants> merge_as_list_{};
  // The slots with a context, ascending: the per-iteration flush scans
  // these instead of all kMaxTenants slots.
  std::array<uint16_t, kMaxTenants> live_{};
  uint16_t live_count_ = 0;
  uint64_t seen_epoch_ = 0;
  uint16_t flush_cursor_ = 0;  // FlushByPolicy's first slot (round robin)
  uint64_t unmatched_packets_ = 0;
  uint64_t unmatched_bytes_ = 0;
  rte_mbuf* out_buf_[64];
  gro::Output out_;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_GRO_STAGE_H_
