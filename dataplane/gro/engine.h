// The GRO engine's internals shared by its files:
//   context.cc   per-packet decisions (hold / merge / link / pass), Context
//   rules.cc     the merge rules, written once for all types
//   flush.cc     emitting held runs, table-full eviction, flush policies
//   fast_path.cc header templates: the same-flow fast path and burst API
//   output.cc    merged-header rewrite, metadata, LIST heads
// Merge rules:
//   * same flow key (Parse) and equal FlowAttrs/Layout/option bytes, else
//     the held flow is flushed first (kFlushMismatch) -- never two entries
//     for one 5-tuple, so a flow can't be reordered by its own entries;
//   * adjacency in sequence space: a TCP segment extends the flow's one
//     run only at its end, in MERGE and LIST (else the run is flushed
//     first, so no output puts a later arrival before an earlier one); a
//     fragment extends a run at either end (in LIST only the newest, at its
//     end), and two fragment runs join when the gap fills;
//   * TCP/UDP: every packet but the last of a run carries `mss` bytes
//     (Segment() must be able to reproduce them), at most max_segments,
//     merged length within max_merged_bytes;
//   * IPv4 with DF=0: IDs increment by one along the run (RFC 6864), inner
//     and outer separately; DF=1 IDs are ignored.
#ifndef GROD_DATAPLANE_GRO_ENGINE_H_
#define GROD_DATAPLANE_GRO_ENGINE_H_

#include <rte_mbuf.h>

#include "dataplane/gro/bytes.h"
#include "dataplane/gro/flow_table.h"
#include "dataplane/gro/gro_engine.h"

namespace grod::gro {

inline bool SeqLt(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }

// rte_pktmbuf_lastseg() reads `next`, in the mbuf's second cache line,
// which RX never touches; nb_segs (first line) usually answers.
inline rte_mbuf* LastSeg(rte_mbuf* m) {
  return m->nb_segs == 1 ? m : rte_pktmbuf_lastseg(m);
}

// A fragment run keeps in Run::flags (no TCP flags there) which ECN
// codepoints its fragments carried: bit 1 << ecn.
inline constexpr uint8_t kEcnSeenNotEct = 1 << 0, kEcnSeenCe = 1 << 3;

// What a packet adds to its run's `flags`: TCP flags, or for a fragment
// its ECN codepoint.
inline uint8_t RunFlags(const Layout& l, const ParsedPacket& p) {
  return l.type == kIpv4Frag ? uint8_t(1u << p.ecn) : p.tcp_flags;
}

// A packet something already aggregated: a NIC's LRO (RX_LRO, tso_segsz
// valid) or a GSO packet handed over by a VM (vhost's legacy offload mode
// marks it TX_*_SEG on receive).  It is not one plain segment: passed
// through untouched (kPassAggregated), after what its flow holds.
inline constexpr uint64_t kPreAggregated =
    RTE_MBUF_F_RX_LRO | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG;

// kOutOfOrder: a TCP segment that does not continue the held run (either
// mode: a TCP flow holds one run).  kTooManyRuns: a fragment flow holds
// kMaxRuns runs.
enum class AddResult { kAdded, kDuplicate, kNoFit, kTooManyRuns, kOutOfOrder };

// Stateless helpers bound to one context's config, table and counters.
class Engine {
 public:
  Engine(const ContextConfig& cfg, FlowTable* t, Counters* c)
      : cfg_(cfg), t_(t), c_(c) {
    limit16_ = cfg.max_merged_bytes < 65535 ? cfg.max_merged_bytes : 65535;
    limit_ = cfg.max_merged_bytes < kMaxBigMergedBytes ? cfg.max_merged_bytes
                                                       : kMaxBigMergedBytes;
  }

  // Returns the flow holding `m` afterwards, or nullptr (passed, emitted).
  // `entry`: the packet's flow entry if the caller knows it (the fast
  // path: live or idle, found by its template), else it is looked up.
  Flow* Process(rte_mbuf* m, const ParsedPacket& p, Mode mode, uint64_t now,
                Output* out, Flow* entry = nullptr);
  void FlushFlow(Flow* f, FlushReason why, Output* out);
  // FlushFlow() but the entry stays as it is (the caller resets the table).
  void EmitFlow(const Flow* f, FlushReason why, Output* out);
  // One run as one output (merged, listed or single), counted.
  void EmitRun(const Layout& l, const Run& r, Output* out);
  // Makes room for a new run at index i of f's runs (the later ones move
  // up one), stamped as the newest, and returns it (fields unset).
  Run& OpenRun(Flow* f, int i);
  // The byte limit (see Fits) for flows of plain TCP (BIG TCP allowed) or
  // anything else (16-bit length fields).
  uint32_t limit(bool plain_tcp) const { return plain_tcp ? limit_ : limit16_; }

 private:
  void Pass(rte_mbuf* m, const ParsedPacket& p, PassReason why, Output* out);
  // Order across tables, per address pair (PairTag): before packet p is
  // held or passed, what its pair holds in another table leaves -- a
  // fragment flushes the pair's other flows, any other packet its
  // fragment flows, a packet passing unparsed both.  So a pair's held
  // packets are only ever in one kind of table, and no output overtakes
  // one whose packets all arrived before it.
  void OrderPair(const ParsedPacket& p, Output* out);
  bool FragmentsComplete(const Flow& f) const;
  // The steps of Process(), in order (context.cc).
  // Why m passes instead of being held; kPassNone: a GRO candidate.
  PassReason Verdict(const rte_mbuf* m, const ParsedPacket& p, Mode mode);
  // Adds m to f, which holds packets (flushed first when m does not
  // continue it).  False: m was passed (a duplicate) and is gone.
  bool AddToLive(Flow* f, rte_mbuf* m, const ParsedPacket& p, Output* out);
  // m starts a flow in entry f (idle: revived) or a new one (f == nullptr).
  // Returns the flow, or nullptr when m left at once (PSH/FIN, no slot).
  Flow* StartFlow(Flow* f, rte_mbuf* m, const ParsedPacket& p, Mode mode,
                  uint64_t now, Output* out);
  // After m is held by f: emits f if it is complete; returns f if it still
  // holds packets, else nullptr.
  Flow* EmitIfDone(Flow* f, const ParsedPacket& p, Output* out);
  // rules.cc
  bool Compatible(const Flow& f, const ParsedPacket& p, const rte_mbuf* m,
                  Mode mode) const;
  AddResult AddSeq(Flow* f, rte_mbuf* m, const ParsedPacket& p);
  AddResult AddUdp(Flow* f, rte_mbuf* m, const ParsedPacket& p);
  bool Fits(const Layout& l, uint32_t bytes, uint32_t segs) const;
  bool CanAppend(const Flow& f, const Run& r, const ParsedPacket& p) const;
  bool CanPrepend(const Flow& f, const Run& r, const ParsedPacket& p) const;
  void Append(Flow* f, Run* r, rte_mbuf* m, const ParsedPacket& p);
  void Prepend(Flow* f, Run* r, rte_mbuf* m, const ParsedPacket& p);
  void TryJoin(Flow* f, int i);
  void StartRun(Flow* f, int i, rte_mbuf* m, const ParsedPacket& p);

  const ContextConfig& cfg_;
  FlowTable* t_;
  Counters* c_;
  uint32_t limit_, limit16_;
};

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_ENGINE_H_
