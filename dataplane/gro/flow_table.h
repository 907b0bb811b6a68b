// Per-context flow state: a compact open-addressing hash table (linear
// probing, backward-shift deletion) over a fixed array of Flow entries, plus
// an intrusive list of flows in creation order for oldest-first eviction and
// timeout flushes.
//
// Why not rte_hash: a lookup here is one probe of an 8-byte slot (hash +
// index; load factor <= 0.5) and one key compare in the Flow itself, with
// the hash precomputed by Parse.  rte_hash's bucketized cuckoo table keeps
// keys in a separate array and adds/deletes through a key-store ring, which
// costs extra cache lines per packet; in BM_FlowTable (gro_benchmark) the
// add+find+delete cycle of this table is faster at every size we tried.
// Memory is bounded: max_flows Flow entries + 2x slots, all allocated once.
#ifndef GROD_DATAPLANE_GRO_FLOW_TABLE_H_
#define GROD_DATAPLANE_GRO_FLOW_TABLE_H_

#include <immintrin.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <cstdint>
#include <cstring>

#include "dataplane/gro/gro_engine.h"

namespace grod::gro {

// Out-of-order "runs" a flow may hold: contiguous, mergeable segment
// sequences kept sorted by start.  A packet that would need a fifth run
// flushes the flow (kFlushReorder).
inline constexpr int kMaxRuns = 4;
inline constexpr uint32_t kNil = UINT32_MAX;

struct Run {
  rte_mbuf* head;  // intact headers (MERGE and LIST)
  rte_mbuf* tail;  // MERGE: last mbuf segment of the chain; LIST: last packet
  uint32_t start, end;  // TCP seq / fragment byte offsets; UDP: unused
  uint32_t bytes;       // payload bytes
  uint16_t segs;        // original packets
  uint16_t mss;         // payload of the first packet (all but last equal)
  uint16_t last_len;    // payload of the last packet
  uint16_t first_id, last_id;              // inner IPv4 ID
  uint16_t outer_first_id, outer_last_id;  // outer IPv4 ID (VXLAN)
  uint8_t flags;                           // TCP flags ORed
  uint8_t last_mf;                         // fragments: MF of the last one
};

// Header layout shared by every packet of a flow (equal offsets imply equal
// IPv4/TCP option lengths; the option bytes are compared separately).
struct Layout {
  uint16_t outer_l3_off, outer_l4_off, l2_off, l3_off, l4_off, payload_off;
  uint8_t type;  // GroType bit
  uint8_t is_v6, outer_is_v6, vxlan, proto, mode;
};
static_assert(sizeof(Layout) == 18);  // no padding: compared with memcmp

inline Layout LayoutOf(const ParsedPacket& p, Mode mode) {
  return Layout{p.outer_l3_off, p.outer_l4_off, p.l2_off,        p.l3_off,
                p.l4_off,       p.payload_off,  uint8_t(p.type), p.is_v6,
                p.outer_is_v6,  p.has_vni,      p.l4_proto,      uint8_t(mode)};
}

// Cache-line aligned: a packet touches the first four lines (key, attrs,
// layout, runs[0]).
struct alignas(64) Flow {
  FlowKey key;
  uint32_t hash;
  uint32_t older, newer;  // creation-order list (indices)
  uint64_t start_tsc;
  FlowAttrs attrs;
  Layout layout;
  uint8_t nruns;
  uint32_t held;  // packets held in all runs
  Run runs[kMaxRuns];
};

// Whole-key equality in seven 16-byte compares (no libc call).
inline bool KeyEqual(const FlowKey& a, const FlowKey& b) {
  const __m128i* x = reinterpret_cast<const __m128i*>(&a);
  const __m128i* y = reinterpret_cast<const __m128i*>(&b);
  __m128i d = _mm_xor_si128(_mm_load_si128(x), _mm_load_si128(y));
  for (int i = 1; i < int(sizeof(FlowKey) / 16); ++i) {
    d = _mm_or_si128(
        d, _mm_xor_si128(_mm_load_si128(x + i), _mm_load_si128(y + i)));
  }
  return _mm_testz_si128(d, d);
}

class FlowTable {
 public:
  static FlowTable* Create(uint32_t max_flows, int socket_id);
  static void Destroy(FlowTable* t);

  Flow* Find(const FlowKey& key, uint32_t hash) const {
    for (uint32_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot s = slots_[i];
      if (s.idx == kNil) return nullptr;
      if (s.hash == hash) {
        Flow* f = &flows_[s.idx];
        if (KeyEqual(f->key, key)) return f;
      }
    }
  }
  // Two-stage prefetch for a burst: the slot first, then (once the slot is
  // in cache) the flow entry's first lines.
  void PrefetchSlot(uint32_t hash) const {
    rte_prefetch0(&slots_[hash & mask_]);
  }
  void PrefetchFlow(uint32_t hash) const {
    const Slot s = slots_[hash & mask_];
    if (s.idx == kNil) return;
    const char* f = reinterpret_cast<const char*>(&flows_[s.idx]);
    rte_prefetch0(f);
    rte_prefetch0(f + 64);
    rte_prefetch0(f + 128);
    rte_prefetch0(f + 192);
  }
  // Third stage: the mbufs a merge writes (head: lengths in line 0; tail:
  // `next` in line 1).  Held long ago, they are cold with many flows.
  void PrefetchRun(uint32_t hash) const {
    const Slot s = slots_[hash & mask_];
    if (s.idx == kNil) return;
    const Flow& f = flows_[s.idx];
    if (f.nruns == 0) return;
    rte_prefetch0(f.runs[0].head);
    rte_prefetch0(reinterpret_cast<const char*>(f.runs[0].tail) + 64);
  }
  // Requires !full() and no flow with this key.  Fields other than key,
  // hash, start_tsc and the list links are left for the caller.
  Flow* Insert(const FlowKey& key, uint32_t hash, uint64_t now_tsc);
  void Remove(Flow* f);

  bool full() const { return size_ == capacity_; }
  uint32_t size() const { return size_; }
  Flow* oldest() const { return oldest_ == kNil ? nullptr : &flows_[oldest_]; }
  Flow* newer(const Flow* f) const {
    return f->newer == kNil ? nullptr : &flows_[f->newer];
  }

  uint32_t held_packets = 0;  // over all flows

 private:
  struct Slot {
    uint32_t hash;
    uint32_t idx;  // kNil = empty
  };
  FlowTable() = default;
  uint32_t Index(const Flow* f) const { return uint32_t(f - flows_); }

  Slot* slots_ = nullptr;
  uint32_t mask_ = 0;
  Flow* flows_ = nullptr;
  uint32_t* free_ = nullptr;  // stack of free flow indices
  uint32_t nfree_ = 0;
  uint32_t capacity_ = 0, size_ = 0;
  uint32_t oldest_ = kNil, newest_ = kNil;
};

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_FLOW_TABLE_H_
