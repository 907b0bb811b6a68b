// Per-context flow state: a compact open-addressing hash table (buckets of
// 8 slots, an overflow into the next bucket, entries moved back home on
// deletion) over fixed arrays of flow entries, plus
// an intrusive list of flows in creation order for oldest-first eviction and
// timeout flushes.
//
// An entry is live (holds packets: nruns > 0), idle, or free.  A live flow
// with a template that is emitted becomes idle: it keeps its key,
// attributes, layout, template and slot, so the flow's next packet is
// recognized by the fast path (a template hit revives the entry without a
// parse) and the full path finds it by key.  Idle entries are marked in a
// bitmap and reclaimed in clock order when an entry is needed (a list
// would make every revival write two random other entries); only live
// flows count against max_flows' table-full eviction.
//
// A flow entry is split in two arrays by how often it is touched:
//   * Flow (hot, 128 B = 2 cache lines): line 0 is the header template (the
//     first 64 header bytes of the flow's first packet, see Shape), line 1
//     the state a merge updates (run 0, links, hash, port, shape).  A packet
//     taking the fast path touches only these two lines.
//   * FlowCold (384 B): template bytes 64..127, the full FlowKey (slow-path
//     lookups), attributes, layout, creation time, a fragment flow's runs
//     1..3.
// The slots that lead from a flow's hash to its entry are bucketized: a
// bucket is one cache line of 8 slots (keyed hashes, then entry indices),
// and a lookup compares all 8 hashes at once (SSE2: two compares, a
// movemask), so where a flow sits in its bucket, and whether another flow
// shares the bucket, costs no branch: the lookup's outcome does not depend
// on the per-context hash seed (docs/BENCHMARKS_GRO.md, "Issue #11:
// bucketized slots").
// Why not rte_hash: a lookup here is one cache line of slots (load factor
// <= 0.25) and one compare in the flow itself, with the hash precomputed;
// rte_hash's bucketized cuckoo table keeps keys in a separate array and
// adds/deletes through a key-store ring, which costs extra cache lines per
// packet.  Memory is bounded: max_flows entries + 4x slots (32 B per flow
// next to an entry's 512), all allocated once.
#ifndef GROD_DATAPLANE_GRO_FLOW_TABLE_H_
#define GROD_DATAPLANE_GRO_FLOW_TABLE_H_

#include <immintrin.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <cstdint>
#include <cstring>

#include "dataplane/gro/bytes.h"
#include "dataplane/gro/gro_engine.h"

namespace grod::gro {

// Out-of-order "runs" an IPv4 fragment flow may hold: contiguous,
// mergeable fragment sequences kept sorted by offset.  A fragment that
// would need a fifth run flushes the flow (kFlushReorder).  A TCP or UDP
// flow holds one run (AddSeq, AddUdp).
inline constexpr int kMaxRuns = 4;
inline constexpr uint32_t kNil = UINT32_MAX;

// Hash flooding: the parser's flow hash (CRC32-C, hash.h) is unkeyed, so
// anyone can pick 5-tuples that share its low bits.  The table therefore
// places flows by a keyed hash of it -- multiply-shift with a per-context
// random odd 64-bit multiplier: for two different flow hashes, the chance
// that they share a home bucket is about 2 / buckets whatever the sender
// picked -- and probes at most kMaxProbe slots: the flow's home bucket and,
// only while that one is full, the next.  A flow with no free slot there
// is not held (kPassHashCollision).  (Flows whose CRCs collide in all 32
// bits still share a home; the bound caps what they cost.)
inline constexpr uint32_t kBucketSlots = 8;
inline constexpr uint32_t kMaxProbe = 2 * kBucketSlots;

// Address pairs: IP addresses, ingress port and VXLAN context (VNI, outer
// addresses) -- what a fragment shares with the 5-tuples of its datagram,
// and a packet passing unparsed with its own.  Order across the engine's
// tables is kept per pair (Engine::OrderPair).  The tag is a filter
// (31 bits); SamePair() decides.
inline uint32_t PairTag(const FlowKey& k) {
  uint64_t a = rte_hash_crc_8byte(LoadU64(k.src) ^ LoadU64(k.src + 8),
                                  uint32_t(k.port) << 16 ^ k.vni);
  a = rte_hash_crc_8byte(LoadU64(k.dst) ^ LoadU64(k.dst + 8), uint32_t(a));
  if (k.vni != 0) {
    a = rte_hash_crc_8byte(LoadU64(k.outer_src) ^ LoadU64(k.outer_dst),
                           uint32_t(a));
  }
  return uint32_t(a) & 0x7fffffff;
}
inline bool SamePair(const FlowKey& a, const FlowKey& b) {
  return memcmp(a.src, b.src, 32) == 0 && a.port == b.port && a.vni == b.vni &&
         memcmp(a.outer_src, b.outer_src, 16) == 0 &&
         memcmp(a.outer_dst, b.outer_dst, 16) == 0;
}

// The multiplier for a seed (0: a random one), and the keyed hash.
uint64_t HashMultiplier(uint64_t seed);
inline uint32_t KeyedHash(uint32_t hash, uint64_t mult) {
  return uint32_t((uint64_t(hash) * mult) >> 32);
}

// MERGE runs update the head mbuf lazily: its pkt_len and nb_segs are
// written when the run is emitted (from payload_off + bytes and nsegs), so
// a merge touches only the tail mbuf, never the (cold) head.  LIST runs
// leave the tail's link undefined until emitted.
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
  uint16_t nsegs;                          // MERGE: mbuf segments in chain
  uint8_t flags;                           // TCP flags ORed
  uint8_t last_mf;                         // fragments: MF of the last one
};
static_assert(sizeof(Run) == 48);

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

// What all flows of one header layout, mode and DF / UDP-checksum-zero
// attribute share, for the fast path: which header bytes must equal the
// flow's template (everything but the IP length/ID/checksum, TCP seq/
// window/checksum/urgent pointer, UDP length and a present UDP checksum),
// and where the fields checked separately are.  A packet whose bytes
// [0, hdr_len) equal its flow's template under `mask`, whose length fields
// agree with its mbuf length, and that arrives on the flow's port, would
// parse to the flow's key, attributes and layout, with no pass reason.
// Only plain (non-VXLAN) TCP/UDP over IPv4/IPv6 with headers <= 128 bytes
// get a shape; other flows always take the full path.
struct alignas(512) Shape {  // (a power of two: indexed by a shift)
  __m128i mask[8];           // 0xff: byte compared with the template
  // The streaming loop (hdr_len <= 64) compares the length fields too: a
  // full-size segment's values, at these bytes of [0, 64).
  __m128i ip_len_bytes[4];   // 0xff at the inner IP length field
  __m128i udp_len_bytes[4];  // 0xff at the UDP length field (UDP only)
  Layout layout;
  uint8_t df;         // IPv4 DF (IPv6: 1): IDs need not increment
  uint8_t csum_zero;  // UDP checksum 0 (then compared as 0 by the mask)
  uint16_t hdr_len;   // payload_off
  uint16_t len_off;   // offset of the inner IP length field
  uint16_t len_base;  // that field must equal pkt_len - len_base
  uint16_t fit_base;  // Fits(): length-field bytes besides the payload
  uint8_t nchunks;    // 16-byte chunks to compare
  uint8_t udp;
  uint16_t read_len;   // bytes the compare reads: whole chunks, >= 64
  uint8_t streamable;  // the length fields lie in [0, 64): StreamT()
  // Which StreamT() instance streams it (stream.cc, kFns): udp * 8 +
  // (mode LIST) * 4 + !df * 2 + (nchunks > 4); fixed by the shape, so not
  // worked out per call.
  uint8_t stream_fn;
  uint32_t refs;  // flows using it; 0 = free for reuse
};
inline constexpr int kMaxShapes = 32;
inline constexpr uint8_t kNoShape = 0xff;

// Hot part of a flow entry.
struct alignas(64) Flow {
  uint8_t tmpl[64];  // header bytes [0, 64) of the flow's first packet
  Run run0;
  uint32_t hash;
  uint32_t older, newer;  // creation-order list (indices)
  uint16_t port;          // ingress port (also in the key)
  uint8_t shape;          // kNoShape: no fast path for this flow
  uint8_t nruns;          // 0: idle (shape set) or free (no shape)
};
static_assert(sizeof(Flow) == 128);

// Cold part of a flow entry (same index).
struct alignas(64) FlowCold {
  uint8_t tmpl_hi[64];  // header bytes [64, 128) when hdr_len > 64
  FlowKey key;
  FlowAttrs attrs;
  Layout layout;
  Run runs[kMaxRuns - 1];  // runs 1..3
  // When each run started (FlowTable::NextRunStamp(); joined: the older),
  // valid while the flow holds more than one run: runs are emitted in
  // arrival order.
  uint32_t run_stamp[kMaxRuns];
};
static_assert(sizeof(FlowCold) == 384);

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
  // One cache line of slots.  Slot j holds the keyed hash of an entry and
  // its index; an empty slot holds kNil and, as hash, EmptyHash(): one
  // whose home is two buckets on, so no lookup that reads this bucket
  // (whose home is this bucket or the one before) ever matches it.
  struct alignas(64) Bucket {
    uint32_t hash[kBucketSlots];
    uint32_t idx[kBucketSlots];  // kNil = empty
  };
  // The slots of `b` holding `v` among `w` (its hashes or its indices):
  // two mask bits per slot, bits 2j and 2j + 1 for slot j.
  static uint32_t Match(const uint32_t (&w)[kBucketSlots], uint32_t v) {
    const __m128i k = _mm_set1_epi32(int(v));
    const __m128i* p = reinterpret_cast<const __m128i*>(w);
    return uint32_t(_mm_movemask_epi8(
        _mm_packs_epi32(_mm_cmpeq_epi32(_mm_load_si128(p), k),
                        _mm_cmpeq_epi32(_mm_load_si128(p + 1), k))));
  }
  // The empty slots of `b`, as Match() gives them.  kNil is the only
  // negative index (max_flows <= 2^24): its sign, spread over the 16-bit
  // lane by a shift after the pack, marks the slot -- no broadcast or
  // compare.  (Without the shift, a positive index's low byte can carry a
  // set top bit.)
  static uint32_t Empty(const Bucket& b) {
    const __m128i* p = reinterpret_cast<const __m128i*>(b.idx);
    return uint32_t(_mm_movemask_epi8(_mm_srai_epi16(
        _mm_packs_epi32(_mm_load_si128(p), _mm_load_si128(p + 1)), 15)));
  }
  // The index in the slot of mask bit `bit` (the lowest of a Match(): even;
  // as a byte offset, 2 * bit, it needs no shift).
  static uint32_t IdxAt(const Bucket& b, uint32_t bit) {
    uint32_t v;
    memcpy(&v, reinterpret_cast<const char*>(b.idx) + 2 * bit, sizeof(v));
    return v;
  }
  // The bucket array, for a burst loop to keep in registers (stores into
  // mbufs or runs could alias the table's members).  Valid until the next
  // Insert/Free (which may move slots, never the array).
  struct Slots {
    const Bucket* buckets;
    // The slot mask with the bits of a slot within its bucket clear:
    // kh & home_mask is kh's home bucket's first slot (times 8, its byte
    // offset: no shift to find the bucket).
    uint32_t home_mask;
    uint64_t mult;
    // The keyed hash of a flow hash (Find/Prefetch take keyed ones).
    uint32_t Key(uint32_t hash) const { return KeyedHash(hash, mult); }
    const Bucket& Home(uint32_t kh) const {
      return *reinterpret_cast<const Bucket*>(
          reinterpret_cast<const char*>(buckets) +
          size_t(kh & home_mask) * (sizeof(Bucket) / kBucketSlots));
    }
    // An entry whose slot carries keyed hash `kh`, or kNil.  The home
    // bucket's 8 hashes are compared at once: a hit costs one branch,
    // wherever in the bucket the entry sits.
    uint32_t Find(uint32_t kh) const {
      const Bucket& b = Home(kh);
      const uint32_t m = Match(b.hash, kh);
      if (__builtin_expect(m != 0, 1)) {
        // (IdxAt() with a 64-bit bit index: the doubling folds into the
        // load's address, one step less on a hit's path.)
        uint32_t idx;
        memcpy(&idx,
               reinterpret_cast<const char*>(b.idx) +
                   2 * uint64_t(__builtin_ctzll(m)),
               sizeof(idx));
        // A slot carrying kh holds an entry (an empty one carries a hash
        // of another home): the caller's kNil test folds away here.
        if (idx == kNil) __builtin_unreachable();
        return idx;
      }
      return FindAway(buckets, home_mask, &b, kh);
    }
    void Prefetch(uint32_t kh) const { rte_prefetch0(&Home(kh)); }
  };
  Slots slots() const { return Slots{buckets_, mask_ * kBucketSlots, mult_}; }
  // Slots::Find() for a kh not in its home bucket b (rare: out of line):
  // in the next bucket if b is full.
  [[gnu::noinline]] static uint32_t FindAway(const Bucket* buckets,
                                             uint32_t home_mask,
                                             const Bucket* b, uint32_t kh);

  // Slots of a table of max_flows entries (a power of two, at least 4
  // buckets): a flow's home slot is KeyedHash() & (SlotCount() - 1), its
  // home bucket that slot / kBucketSlots.
  static uint32_t SlotCount(uint32_t max_flows);
  // hash_seed: see HashMultiplier().
  static FlowTable* Create(uint32_t max_flows, int socket_id,
                           uint64_t hash_seed);
  static void Destroy(FlowTable* t);

  // Methods taking a `hash` take the parser's flow hash (key it here).
  Flow* Find(const FlowKey& key, uint32_t hash) const {
    const uint32_t kh = Key(hash);
    const Bucket* b = &slots().Home(kh);
    for (int n = 0;; ++n) {
      // Every slot carrying kh (flow hashes collide): the whole key
      // decides.  (One mask bit per slot.)
      for (uint32_t m = Match(b->hash, kh) & 0x5555; m != 0; m &= m - 1) {
        const uint32_t idx = IdxAt(*b, __builtin_ctz(m));
        if (KeyEqual(cold_[idx].key, key)) return &flows_[idx];
      }
      // In the next bucket only if the home bucket is full.
      if (n == 1 || Empty(*b) != 0) return nullptr;
      b = &buckets_[(b - buckets_ + 1) & mask_];
    }
  }
  uint32_t Key(uint32_t hash) const { return KeyedHash(hash, mult_); }
  // Find() returns live and idle entries (IsIdle()).
  static bool IsIdle(const Flow* f) {
    return f->nruns == 0 && f->shape != kNoShape;
  }
  // Staged prefetch for a burst: the slots first, then (once they are in
  // cache) the flow entry.
  void PrefetchSlot(uint32_t hash) const { slots().Prefetch(Key(hash)); }
  // Hot lines, and the cold lines holding the key (slow-path lookups), of
  // the home bucket's entry with the flow's keyed hash.
  void PrefetchFlow(uint32_t hash, bool with_key) const {
    const uint32_t idx = AtHome(hash);
    if (idx == kNil) return;
    rte_prefetch0(&flows_[idx]);
    rte_prefetch0(&flows_[idx].run0);
    if (with_key) {
      const char* c = reinterpret_cast<const char*>(&cold_[idx].key);
      rte_prefetch0(c);
      rte_prefetch0(c + 64);
    }
  }
  // The mbufs a merge writes: the tail's `next` (line 1).  Held long ago,
  // it is cold with many flows.
  static void PrefetchTail(const Flow& f) {
    if (f.nruns == 0) return;
    rte_prefetch0(reinterpret_cast<const char*>(f.run0.tail) + 64);
  }
  void PrefetchRun(uint32_t hash) const {
    const uint32_t idx = AtHome(hash);
    if (idx != kNil) PrefetchTail(flows_[idx]);
  }

  // Requires !full() and no entry with this key.  Sets key, hash, port,
  // start_tsc, the list links and shape = kNoShape; runs are left to the
  // caller.  Reclaims the least recently idle entry if none is free.
  // nullptr when no slot within kMaxProbe of the flow's home is free (or
  // held by an idle entry, which is reclaimed): hash flooding.
  Flow* Insert(const FlowKey& key, uint32_t hash, uint64_t now_tsc);
  // A live flow whose runs were emitted: idle if it has a template, else
  // free.
  void Retire(Flow* f);
  // Counts an emitted flow for lazy_templates() (Retire() does it too).
  void NoteRetired(bool single) {
    singles_ += single;
    if (++retired_ == kRetireWindow) {
      lazy_templates_ = singles_ > kRetireWindow * 3 / 4;
      retired_ = singles_ = 0;
    }
  }
  // Every entry free, as after Create(), once the caller emitted every
  // live flow (counted as retired for lazy_templates() and, while pairs
  // are counted, as retirements for CountOthers()).  O(entries in use).
  void Reset();
  // Makes an idle entry live again (newest, created now) with no runs.
  // Requires !full().  (The full path then resets layout, attributes and
  // template; the fast path keeps them: its packet matched them.)
  void Revive(Flow* f, uint64_t now_tsc);
  // An idle entry's template is going to be replaced.
  void DropShape(Flow* f) {
    if (f->shape != kNoShape) shapes_[f->shape].refs--;
    f->shape = kNoShape;
  }

  // Gives `f` (whose first packet `m` has just been held with layout `l`)
  // a shape and a template, when its kind of flow has a fast path.
  void SetTemplate(Flow* f, const rte_mbuf* m, const Layout& l,
                   const FlowAttrs& a);

  bool full() const { return size_ == capacity_; }
  uint32_t size() const { return size_; }                  // live flows
  uint32_t entries() const { return capacity_ - nfree_; }  // live + idle
  // Whether new flows should wait for their second packet before getting
  // a header template: most flows emitted lately held a single packet (a
  // template would be wasted on them, and churn idle entries).
  bool lazy_templates() const { return lazy_templates_; }
  Flow* oldest() const { return oldest_ == kNil ? nullptr : &flows_[oldest_]; }
  Flow* newer(const Flow* f) const {
    return f->newer == kNil ? nullptr : &flows_[f->newer];
  }
  Flow* flow(uint32_t idx) const { return &flows_[idx]; }
  uint32_t index(const Flow* f) const { return uint32_t(f - flows_); }
  FlowCold& cold(const Flow* f) const { return cold_[f - flows_]; }
  // When the flow (live) was created or revived.
  const uint64_t& start_tsc(const Flow* f) const { return start_[f - flows_]; }
  Run& run(Flow* f, int i) const {
    return i == 0 ? f->run0 : cold_[f - flows_].runs[i - 1];
  }
  const Run& run(const Flow* f, int i) const {
    return i == 0 ? f->run0 : cold_[f - flows_].runs[i - 1];
  }
  const Shape& shape(uint8_t i) const { return shapes_[i]; }
  const Layout& layout(const Flow* f) const {
    return f->shape != kNoShape ? shapes_[f->shape].layout : cold(f).layout;
  }
  // Packets held by one flow.
  uint32_t held(const Flow* f) const {
    uint32_t n = f->run0.segs;
    for (int i = 1; i < f->nruns; ++i) n += cold(f).runs[i - 1].segs;
    return n;
  }

  // Address pairs of live flows (see PairTag): whether one of `frag` kind
  // (IPv4 fragments, else the other types) may hold `tag`'s pair, and the
  // live fragment flows in all.  Fragment flows are always counted per
  // pair.  The other flows are counted only while someone reads those
  // counts (a fragment or a packet passing unparsed: CountOthers() first),
  // so that plain TCP/UDP revivals and retirements touch no pair state: a
  // revival or retirement would cost two more cold cache lines per flow.
  bool PairMayHold(uint32_t tag, bool frag) const {
    return PairLive(tag, frag) != 0;
  }
  uint32_t PairLive(uint32_t tag, bool frag) const {
    return pair_live_[(frag ? pair_mask_ + 1 : 0) + (tag & pair_mask_)];
  }
  // Makes PairLive(tag, false) exact until quiet_limit_ retirements pass
  // with no call: recounts the live flows (and renumbers their creation
  // order) when they were not counted.  Amortized: a recount costs
  // O(live flows + pair buckets), and the counting stops only after twice
  // that many retirements.
  void CountOthers() {
    quiet_ = 0;
    if (!others_counted_) RecountOthers();
  }
  uint32_t frag_live() const { return frag_live_; }
  // Calls fn(f) for the live flows of p's pair whose kind is wanted
  // (fragments / others), oldest first; fn may emit and retire f.  With
  // `others`, after CountOthers() (the creation order of non-fragment
  // flows is kept only while they are counted).
  template <typename Fn>
  void ForEachOfPair(const FlowKey& k, uint32_t tag, bool frags, bool others,
                     Fn fn);
  uint32_t NextRunStamp() { return ++run_clock_; }

  uint32_t held_packets = 0;  // over all flows
  // Emitted flows that held one packet, per window of kRetireWindow.
  static constexpr uint32_t kRetireWindow = 256;

 private:
  FlowTable() = default;
  uint8_t AcquireShape(const Layout& l, const FlowAttrs& a);
  void Unlink(Flow* f);
  void LinkNewest(Flow* f);
  void Free(Flow* f);  // out of the slots, onto the free stack
  // The slot (bucket * kBucketSlots + slot) of entry idx (in use).
  uint32_t SlotOf(uint32_t idx) const;
  // A free slot (bucket * kBucketSlots + slot) for keyed hash kh: in its
  // home bucket, else, that one full, in the next (reclaiming an idle
  // entry there if need be); kNil if none.
  uint32_t FreeSlotNear(uint32_t kh);
  // Empties slot j of bucket b (moving entries back home, see flow_table.cc).
  void EmptySlot(uint32_t b, uint32_t j);
  // Slot `slot` empty, no entry moved (Reset: all are emptied).
  void ClearSlot(uint32_t slot) {
    Bucket& b = buckets_[slot / kBucketSlots];
    b.hash[slot % kBucketSlots] = EmptyHash(slot / kBucketSlots);
    b.idx[slot % kBucketSlots] = kNil;
  }
  void ClearSlots();  // every slot empty
  // Prefetch hint: a home-bucket entry carrying hash's keyed hash, or kNil.
  uint32_t AtHome(uint32_t hash) const {
    const uint32_t kh = Key(hash);
    const Bucket& b = slots().Home(kh);
    const uint32_t m = Match(b.hash, kh);
    return m != 0 ? IdxAt(b, __builtin_ctz(m)) : kNil;
  }
  uint32_t HomeBucket(uint32_t kh) const { return (kh / kBucketSlots) & mask_; }
  uint32_t EmptyHash(uint32_t b) const {
    return ((b + 2) & mask_) * kBucketSlots;
  }
  uint32_t NextIdle();  // requires an idle entry
  struct PairEntry {
    uint32_t tag;  // PairTag() | 1 << 31 for fragments
    // When the flow became live (creation order); for non-fragment flows
    // kept only while others_counted_ (RecountOthers() renumbers).
    uint32_t seq;
  };
  // Entry idx becomes live (+1) or leaves (-1): counted if it is a
  // fragment flow or the others are counted.
  void PairCount(uint32_t idx, int delta) {
    const uint32_t t = pairs_[idx].tag;
    const bool frag = t >> 31;
    if (!frag && !others_counted_) return;
    pair_live_[(frag ? pair_mask_ + 1 : 0) + (t & pair_mask_)] += delta;
    frag_live_ += frag ? delta : 0;
  }
  void RecountOthers();
  void SetIdle(uint32_t idx, bool idle) {
    const uint64_t bit = 1ull << (idx & 63);
    idle_[idx >> 6] = idle ? idle_[idx >> 6] | bit : idle_[idx >> 6] & ~bit;
  }

  Bucket* buckets_ = nullptr;
  uint32_t mask_ = 0;  // buckets - 1
  uint64_t mult_ = 1;  // HashMultiplier(): slots carry KeyedHash()
  Flow* flows_ = nullptr;
  FlowCold* cold_ = nullptr;
  uint32_t* free_ = nullptr;  // stack of free flow indices
  uint32_t nfree_ = 0;
  uint32_t capacity_ = 0, size_ = 0;
  uint32_t oldest_ = kNil, newest_ = kNil;  // live, by creation
  uint64_t* start_ = nullptr;  // creation times (dense: timeout scans)
  uint64_t* idle_ = nullptr;   // bitmap of idle entries
  uint32_t clock_ = 0;         // where the search for one to reclaim resumes
  uint32_t retired_ = 0, singles_ = 0;  // this window
  PairEntry* pairs_ = nullptr;          // per entry (live or idle)
  uint32_t* pair_live_ = nullptr;       // [2][pair_mask_ + 1] live flows
  uint32_t pair_mask_ = 0;
  uint32_t frag_live_ = 0;
  uint32_t pair_clock_ = 0, run_clock_ = 0;
  // Non-fragment flows are counted in pair_live_ (and their PairEntry::seq
  // kept); quiet_: retirements since the last CountOthers().
  bool others_counted_ = false;
  uint32_t quiet_ = 0, quiet_limit_ = 0;
  bool lazy_templates_ = false;
  uint8_t last_shape_ = kNoShape;
  Shape shapes_[kMaxShapes];
};

template <typename Fn>
void FlowTable::ForEachOfPair(const FlowKey& k, uint32_t tag, bool frags,
                              bool others, Fn fn) {
  // Rare (a fragment next to held flows of its pair, or the reverse, or a
  // packet passing unparsed): a scan of the dense tags, oldest matches
  // first, in batches of kBatch.
  constexpr int kBatch = 16;
  for (;;) {
    uint32_t idx[kBatch], seq[kBatch];
    int n = 0;
    bool more = false;
    for (uint32_t i = 0; i < capacity_; ++i) {
      const PairEntry e = pairs_[i];
      if ((e.tag & 0x7fffffff) != tag || !((e.tag >> 31) ? frags : others) ||
          flows_[i].nruns == 0 || !SamePair(cold_[i].key, k)) {
        continue;
      }
      // Keep the kBatch oldest (by seq, wrapping), sorted.
      int j = n < kBatch ? n++ : kBatch;
      if (j == kBatch) {
        more = true;
        if (int32_t(e.seq - seq[kBatch - 1]) > 0) continue;
        j = kBatch - 1;
      }
      for (; j > 0 && int32_t(seq[j - 1] - e.seq) > 0; --j) {
        idx[j] = idx[j - 1];
        seq[j] = seq[j - 1];
      }
      idx[j] = i;
      seq[j] = e.seq;
    }
    for (int j = 0; j < n; ++j) fn(&flows_[idx[j]]);
    if (!more) return;
  }
}

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_FLOW_TABLE_H_
