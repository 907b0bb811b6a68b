#include "dataplane/gro/flow_table.h"

#include <netinet/in.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include <algorithm>
#include <new>

namespace grod::gro {

uint64_t HashMultiplier(uint64_t seed) {
  // splitmix64's finalizer spreads any seed (also small ones) over all
  // bits; odd, as multiply-shift requires.
  uint64_t z = seed != 0 ? seed : rte_rand();
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (z ^ (z >> 31)) | 1;
}

// Load factor <= 0.25: the keyed hash places flows at random; with 8
// slots per bucket a home bucket is then hardly ever full, so a lookup
// reads one cache line of slots.  (At least 4 buckets: see EmptyHash().)
uint32_t FlowTable::SlotCount(uint32_t max_flows) {
  uint32_t nslots = 4 * kBucketSlots;
  while (nslots < 4 * max_flows) nslots <<= 1;
  return nslots;
}

FlowTable* FlowTable::Create(uint32_t max_flows, int socket_id,
                             uint64_t hash_seed) {
  if (max_flows == 0 || max_flows > (1u << 24)) return nullptr;
  const uint32_t nslots = SlotCount(max_flows);
  // alignof: FlowTable holds 512-byte-aligned members (Shape).
  void* mem = rte_zmalloc_socket(
      "grod_gro_table", sizeof(FlowTable),
      std::max<size_t>(alignof(FlowTable), RTE_CACHE_LINE_SIZE), socket_id);
  if (mem == nullptr) return nullptr;
  FlowTable* t = new (mem) FlowTable();
  const uint32_t nbuckets = nslots / kBucketSlots;
  t->buckets_ = static_cast<Bucket*>(rte_malloc_socket(
      "grod_gro_slots", sizeof(Bucket) * nbuckets, alignof(Bucket), socket_id));
  t->flows_ = static_cast<Flow*>(rte_zmalloc_socket(
      "grod_gro_flows", sizeof(Flow) * max_flows, 128, socket_id));
  t->cold_ = static_cast<FlowCold*>(
      rte_zmalloc_socket("grod_gro_flows_cold", sizeof(FlowCold) * max_flows,
                         RTE_CACHE_LINE_SIZE, socket_id));
  t->free_ = static_cast<uint32_t*>(rte_malloc_socket(
      "grod_gro_free", sizeof(uint32_t) * max_flows, 0, socket_id));
  t->start_ = static_cast<uint64_t*>(
      rte_malloc_socket("grod_gro_start", sizeof(uint64_t) * max_flows,
                        RTE_CACHE_LINE_SIZE, socket_id));
  t->idle_ = static_cast<uint64_t*>(rte_zmalloc_socket(
      "grod_gro_idle", sizeof(uint64_t) * (max_flows + 63) / 64,
      RTE_CACHE_LINE_SIZE, socket_id));
  // Pair buckets: as many as flows (at least 1024, at most 65536).
  uint32_t npairs = 1024;
  while (npairs < max_flows && npairs < 65536) npairs <<= 1;
  t->pair_mask_ = npairs - 1;
  t->pairs_ = static_cast<PairEntry*>(
      rte_zmalloc_socket("grod_gro_pairs", sizeof(PairEntry) * max_flows,
                         RTE_CACHE_LINE_SIZE, socket_id));
  t->pair_live_ = static_cast<uint32_t*>(
      rte_zmalloc_socket("grod_gro_pair_live", sizeof(uint32_t) * 2 * npairs,
                         RTE_CACHE_LINE_SIZE, socket_id));
  if (t->buckets_ == nullptr || t->flows_ == nullptr || t->cold_ == nullptr ||
      t->free_ == nullptr || t->start_ == nullptr || t->idle_ == nullptr ||
      t->pairs_ == nullptr || t->pair_live_ == nullptr) {
    Destroy(t);
    return nullptr;
  }
  t->mask_ = nbuckets - 1;
  t->ClearSlots();
  // Hand out low indices first: fewer distinct cache lines with few flows.
  for (uint32_t i = 0; i < max_flows; ++i) t->free_[i] = max_flows - 1 - i;
  t->nfree_ = max_flows;
  t->mult_ = HashMultiplier(hash_seed);
  t->capacity_ = max_flows;
  // Stop counting non-fragment flows per pair after twice what a recount
  // costs in retirements with no reader.
  t->quiet_limit_ = 2 * (max_flows + npairs);
  return t;
}

void FlowTable::Destroy(FlowTable* t) {
  if (t == nullptr) return;
  rte_free(t->buckets_);
  rte_free(t->flows_);
  rte_free(t->cold_);
  rte_free(t->free_);
  rte_free(t->idle_);
  rte_free(t->start_);
  rte_free(t->pairs_);
  rte_free(t->pair_live_);
  t->~FlowTable();
  rte_free(t);
}

void FlowTable::Unlink(Flow* f) {
  if (f->older != kNil) {
    flows_[f->older].newer = f->newer;
  } else {
    oldest_ = f->newer;
  }
  if (f->newer != kNil) {
    flows_[f->newer].older = f->older;
  } else {
    newest_ = f->older;
  }
}

void FlowTable::LinkNewest(Flow* f) {
  const uint32_t idx = index(f);
  f->older = newest_;
  f->newer = kNil;
  if (newest_ != kNil) {
    flows_[newest_].newer = idx;
  } else {
    oldest_ = idx;
  }
  newest_ = idx;
}

uint32_t FlowTable::NextIdle() {
  const uint32_t words = (capacity_ + 63) / 64;
  uint32_t w = clock_ >> 6;
  uint64_t bits = idle_[w] & (~0ull << (clock_ & 63));
  while (bits == 0) {
    w = w + 1 == words ? 0 : w + 1;
    bits = idle_[w];
  }
  const uint32_t idx = w * 64 + uint32_t(__builtin_ctzll(bits));
  clock_ = idx + 1 == capacity_ ? 0 : idx + 1;
  return idx;
}

uint32_t FlowTable::FindAway(const Bucket* buckets, uint32_t home_mask,
                             const Bucket* b, uint32_t kh) {
  if (Empty(*b) != 0) return kNil;
  const uint32_t mask = home_mask / kBucketSlots;
  const Bucket& n = buckets[uint32_t(b - buckets + 1) & mask];
  const uint32_t m = Match(n.hash, kh);
  return m != 0 ? IdxAt(n, uint32_t(__builtin_ctz(m))) : kNil;
}

uint32_t FlowTable::FreeSlotNear(uint32_t kh) {
  const uint32_t home = HomeBucket(kh), next = (home + 1) & mask_;
  for (;;) {
    for (const uint32_t b : {home, next}) {
      const uint32_t e = Empty(buckets_[b]);
      if (e != 0) return b * kBucketSlots + uint32_t(__builtin_ctz(e)) / 2;
    }
    // Both full: an idle entry there gives its slot up (an entry of the
    // next bucket may then move into it; look again).
    uint32_t idle = kNil;
    for (const uint32_t b : {home, next}) {
      for (uint32_t j = 0; j < kBucketSlots && idle == kNil; ++j) {
        if (flows_[buckets_[b].idx[j]].nruns == 0) idle = buckets_[b].idx[j];
      }
    }
    if (idle == kNil) return kNil;
    Free(&flows_[idle]);
  }
}

Flow* FlowTable::Insert(const FlowKey& key, uint32_t hash, uint64_t now_tsc) {
  const uint32_t kh = Key(hash);
  uint32_t slot = FreeSlotNear(kh);
  if (slot == kNil) return nullptr;
  if (nfree_ == 0) {
    // Reclaim an idle entry, and look again: freeing a slot never fills
    // another (the one found stays free), but it may have freed one in
    // the home bucket, which comes first (an entry sits in the next bucket
    // only while its home is full).
    Free(&flows_[NextIdle()]);
    slot = FreeSlotNear(kh);
  }
  const uint32_t idx = free_[--nfree_];
  Flow* f = &flows_[idx];
  FlowCold& c = cold_[idx];
  memcpy(&c.key, &key, sizeof(key));
  start_[idx] = now_tsc;
  pairs_[idx] = {PairTag(key) | (key.type == kIpv4Frag ? 1u << 31 : 0),
                 ++pair_clock_};
  PairCount(idx, 1);
  f->hash = hash;
  f->port = key.port;
  f->shape = kNoShape;
  f->nruns = 0;
  LinkNewest(f);
  Bucket& b = buckets_[slot / kBucketSlots];
  b.hash[slot % kBucketSlots] = kh;
  b.idx[slot % kBucketSlots] = idx;
  ++size_;
  return f;
}

uint32_t FlowTable::SlotOf(uint32_t idx) const {
  uint32_t b = HomeBucket(Key(flows_[idx].hash));
  uint32_t m = Match(buckets_[b].idx, idx);
  if (m == 0) {  // away from home: in the next bucket
    b = (b + 1) & mask_;
    m = Match(buckets_[b].idx, idx);
  }
  return b * kBucketSlots + uint32_t(__builtin_ctz(m)) / 2;
}

void FlowTable::Free(Flow* f) {
  const uint32_t idx = index(f);
  const uint32_t slot = SlotOf(idx);
  EmptySlot(slot / kBucketSlots, slot % kBucketSlots);
  DropShape(f);
  f->nruns = 0;
  SetIdle(idx, false);
  free_[nfree_++] = idx;
}

void FlowTable::EmptySlot(uint32_t b, uint32_t j) {
  // An entry whose home is bucket b sits in the next one only while b is
  // full, so lookups stop at a home bucket with a free slot.  When b was
  // full, one such entry moves into the hole -- which leaves one in the
  // next bucket, for the same reason, and so on.  Entries only ever move
  // home: no tombstones, and lookups stay one bucket long after churn.
  for (;;) {
    Bucket& cur = buckets_[b];
    const bool was_full = Empty(cur) == 0;
    cur.hash[j] = EmptyHash(b);
    cur.idx[j] = kNil;
    if (!was_full) return;
    const uint32_t nb = (b + 1) & mask_;
    Bucket& next = buckets_[nb];
    uint32_t k = 0;
    while (k < kBucketSlots &&
           (next.idx[k] == kNil || HomeBucket(next.hash[k]) != b)) {
      ++k;
    }
    if (k == kBucketSlots) return;
    cur.hash[j] = next.hash[k];
    cur.idx[j] = next.idx[k];
    b = nb;
    j = k;
  }
}

void FlowTable::ClearSlots() {
  for (uint32_t b = 0; b <= mask_; ++b) {
    for (uint32_t j = 0; j < kBucketSlots; ++j) {
      buckets_[b].hash[j] = EmptyHash(b);
      buckets_[b].idx[j] = kNil;
    }
  }
}

void FlowTable::Retire(Flow* f) {
  NoteRetired(f->nruns == 1 && f->run0.segs == 1);
  if (others_counted_) {
    PairCount(index(f), -1);
    // Nobody asked for a while: stop counting (see CountOthers()).
    if (++quiet_ >= quiet_limit_) others_counted_ = false;
  } else if (f->shape == kNoShape) {
    // A template means plain TCP/UDP (AcquireShape): not a fragment flow,
    // so its pair entry need not be read.
    PairCount(index(f), -1);
  }
  Unlink(f);
  --size_;
  f->nruns = 0;
  if (f->shape != kNoShape) {
    SetIdle(index(f), true);
  } else {
    Free(f);
  }
}

// Touches only the entries in use (live: the list; idle: the bitmap), not
// the whole slot array, free stack and pair counters: burst mode resets
// after every call of 32 packets with a few entries in use, and clearing
// 4 slots, a free-stack entry and 2 pair buckets per max_flows (8 KiB of
// pair buckets at the minimum 1024) each time cost it more than the
// engine's per-packet work (docs/BENCHMARKS_GRO.md, "Issue #11: burst
// mode").  Slots are emptied one by one without backward shift: each
// entry is still found from its home, as no slot moves.
void FlowTable::Reset() {
  // The pair buckets count live flows only (Retire() took the idle ones
  // out): uncount each, so that they stay exact without a clear.  Nothing
  // is read when nothing is counted (the usual case: no fragment held, no
  // reader lately).
  const bool counted = others_counted_ || frag_live_ != 0;
  // Newest first: the free stack gets back the order it handed out.
  for (uint32_t i = newest_; i != kNil; i = flows_[i].older) {
    Flow* f = &flows_[i];
    NoteRetired(f->nruns == 1 && f->run0.segs == 1);
    if (counted) PairCount(i, -1);
    f->nruns = 0;
    DropShape(f);
    ClearSlot(SlotOf(i));
    free_[nfree_++] = i;
  }
  if (others_counted_) {
    quiet_ += size_;
    if (quiet_ >= quiet_limit_) others_counted_ = false;
  }
  const uint32_t words = (capacity_ + 63) / 64;
  for (uint32_t w = 0; w < words; ++w) {
    for (uint64_t bits = idle_[w]; bits != 0; bits &= bits - 1) {
      const uint32_t i = w * 64 + uint32_t(__builtin_ctzll(bits));
      DropShape(&flows_[i]);
      ClearSlot(SlotOf(i));
      free_[nfree_++] = i;
    }
    idle_[w] = 0;
  }
  size_ = 0;
  oldest_ = newest_ = kNil;
  clock_ = 0;
  held_packets = 0;
}

void FlowTable::Revive(Flow* f, uint64_t now_tsc) {
  SetIdle(index(f), false);
  LinkNewest(f);
  start_[index(f)] = now_tsc;
  // Idle entries have a template, so this is no fragment flow: while the
  // other flows are not counted, no pair state is touched.
  if (others_counted_) {
    pairs_[index(f)].seq = ++pair_clock_;
    PairCount(index(f), 1);
  }
  f->nruns = 0;
  ++size_;
}

void FlowTable::RecountOthers() {
  memset(pair_live_, 0, sizeof(uint32_t) * (pair_mask_ + 1));
  // The live list is in creation order, oldest first.
  for (uint32_t i = oldest_; i != kNil; i = flows_[i].newer) {
    PairEntry& e = pairs_[i];
    e.seq = ++pair_clock_;
    if (!(e.tag >> 31)) ++pair_live_[e.tag & pair_mask_];
  }
  others_counted_ = true;
  quiet_ = 0;
}

namespace {

bool SameShape(const Shape& s, const Layout& l, uint8_t df, uint8_t csum0) {
  return s.layout.mode != 0 && memcmp(&s.layout, &l, sizeof(l)) == 0 &&
         s.df == df && s.csum_zero == csum0;
}

void BuildShape(Shape* s, const Layout& l, uint8_t df, uint8_t csum0) {
  uint8_t m[128] = {};
  memset(m, 0xff, l.payload_off);
  auto skip = [&](uint32_t off, uint32_t n) { memset(m + off, 0, n); };
  const uint32_t l3 = l.l3_off, l4 = l.l4_off;
  if (l.is_v6) {
    skip(l3 + 4, 2);  // payload length
  } else {
    skip(l3 + 2, 4);   // total length, ID
    skip(l3 + 10, 2);  // header checksum
  }
  if (l.proto == IPPROTO_TCP) {
    skip(l4 + 4, 4);   // seq
    skip(l4 + 16, 4);  // checksum, urgent pointer (the window is compared)
  } else {
    skip(l4 + 4, 2);              // length
    if (!csum0) skip(l4 + 6, 2);  // a present checksum (0 stays compared)
  }
  memcpy(s->mask, m, sizeof(m));
  uint8_t ip_len[64] = {}, udp_len[64] = {};
  const uint32_t len_off = l.is_v6 ? l3 + 4 : l3 + 2;
  const bool ip_len_in = len_off + 2 <= 64;
  const bool udp_len_in = l.proto != IPPROTO_UDP || l4 + 6 <= 64;
  if (ip_len_in) memset(ip_len + len_off, 0xff, 2);
  if (l.proto == IPPROTO_UDP && udp_len_in) memset(udp_len + l4 + 4, 0xff, 2);
  s->streamable = ip_len_in && udp_len_in;
  memcpy(s->ip_len_bytes, ip_len, 64);
  memcpy(s->udp_len_bytes, udp_len, 64);
  s->layout = l;
  s->df = df;
  s->csum_zero = csum0;
  s->hdr_len = l.payload_off;
  s->len_off = l.is_v6 ? l3 + 4 : l3 + 2;
  s->len_base = l.is_v6 ? l3 + 40 : l3;
  s->fit_base = l.payload_off - s->len_base;
  s->nchunks = uint8_t((l.payload_off + 15) / 16);
  s->read_len = s->nchunks > 4 ? s->nchunks * 16 : 64;
  s->udp = l.proto == IPPROTO_UDP;
  s->stream_fn = uint8_t(s->udp * 8 + (l.mode == uint8_t(Mode::kList)) * 4 +
                         !df * 2 + (s->nchunks > 4));
}

}  // namespace

uint8_t FlowTable::AcquireShape(const Layout& l, const FlowAttrs& a) {
  if (l.vxlan || l.l2_off != 0 || l.payload_off > 128 ||
      !(l.type & (kTcp4 | kTcp6 | kUdp4 | kUdp6)) ||
      (l.mode != uint8_t(Mode::kMerge) && l.mode != uint8_t(Mode::kList))) {
    return kNoShape;
  }
  const uint8_t df = a.df, csum0 = a.udp_csum_zero;
  uint8_t pick = kNoShape;
  if (last_shape_ != kNoShape &&
      SameShape(shapes_[last_shape_], l, df, csum0)) {
    pick = last_shape_;
  } else {
    uint8_t free_one = kNoShape;
    for (int i = 0; i < kMaxShapes; ++i) {
      if (SameShape(shapes_[i], l, df, csum0)) {
        pick = uint8_t(i);
        break;
      }
      if (free_one == kNoShape && shapes_[i].refs == 0) free_one = uint8_t(i);
    }
    if (pick == kNoShape) {
      if (free_one == kNoShape) return kNoShape;  // all in use
      pick = free_one;
      BuildShape(&shapes_[pick], l, df, csum0);
    }
  }
  shapes_[pick].refs++;
  last_shape_ = pick;
  return pick;
}

void FlowTable::SetTemplate(Flow* f, const rte_mbuf* m, const Layout& l,
                            const FlowAttrs& a) {
  const uint8_t s = AcquireShape(l, a);
  if (s == kNoShape) return;
  const uint32_t n = shapes_[s].nchunks * 16u;
  // The fast path reads whole chunks, 64 bytes at least: stay inside the
  // mbuf's buffer.
  if (m->nb_segs != 1 || m->data_off + (n > 64 ? n : 64) > m->buf_len) {
    shapes_[s].refs--;
    return;
  }
  // Fixed-size 16-byte copies (a variable memcpy is a slow `rep movs`).
  const __m128i* d = rte_pktmbuf_mtod(m, const __m128i*);
  __m128i* t = reinterpret_cast<__m128i*>(f->tmpl);
  for (int i = 0; i < 4; ++i) _mm_store_si128(t + i, _mm_loadu_si128(d + i));
  if (n > 64) {
    __m128i* hi = reinterpret_cast<__m128i*>(cold(f).tmpl_hi);
    for (uint32_t i = 4; i < n / 16; ++i) {
      _mm_store_si128(hi + i - 4, _mm_loadu_si128(d + i));
    }
  }
  f->shape = s;
}

}  // namespace grod::gro
