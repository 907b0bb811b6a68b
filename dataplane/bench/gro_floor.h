// The memory floor of the GRO benchmark's TCP4 MERGE workload: the least
// work any context-mode GRO engine must do for that traffic, to compare our
// engine's cost at many flows with what the memory system allows at all.
//
// It is not an engine.  It is told the flow of each packet for free (the
// benchmark's flow number sits in the IPv4 source address: no hash, no
// slot, no key compare beyond one 16-byte check) and keeps one 64-byte
// state line per flow, which is less than any real flow entry (a key alone
// is 36+ bytes).  What it cannot avoid, whatever the design:
//   * reading and writing the packet's flow state, last touched when that
//     flow's previous packet arrived (F packets ago on average);
//   * linking the packet behind the flow's previous one: the previous
//     mbuf's `next` (its second cache line) is written, and that mbuf was
//     hot only when it arrived;
//   * at the flush, writing each merged head's length fields.
// Three ways of scheduling that work are measured (Way), and the benchmark
// reports the cheapest: chained on arrival with the state -> tail
// dependency prefetched in two stages (as our engine does); pointers kept
// in the state and chained at the flush, where every address is known at
// once; and that, with each burst applied one call late so its state
// lines have a whole burst to arrive.  Nothing else is done, so any
// engine's cost for these packets is higher.
#ifndef GROD_DATAPLANE_BENCH_GRO_FLOOR_H_
#define GROD_DATAPLANE_BENCH_GRO_FLOOR_H_

#include <immintrin.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <cstdint>
#include <cstring>

namespace grod::gro::bench {

class FloorEngine {
 public:
  enum class Way {
    kChainOnArrival,  // tail->next on arrival (as our engine)
    kChainAtFlush,    // pointers kept in the state, chained at the flush
    kAcrossBursts,    // kChainAtFlush, and each burst's packets applied
                      // during the next call, when their state lines have
                      // had a whole burst to arrive (one burst of latency)
  };
  FloorEngine(uint32_t flows, Way way)
      : defer_(way != Way::kChainOnArrival), lag_(way == Way::kAcrossBursts) {
    n_ = 1;
    while (n_ < flows) n_ <<= 1;
    st_ = static_cast<State*>(
        rte_zmalloc("floor", sizeof(State) * n_, alignof(State)));
  }
  ~FloorEngine() { rte_free(st_); }
  FloorEngine(const FloorEngine&) = delete;
  FloorEngine& operator=(const FloorEngine&) = delete;
  bool ok() const { return st_ != nullptr; }

  // Takes n <= 32 packets of the benchmark's TCP4 traffic (flow f has
  // source address 10.f>>16.f>>8.f).  Packets are hot (just received);
  // state and held mbufs are wherever the memory system left them.
  // `emit(head)` takes each packet that leaves (a flow that cannot grow).
  template <typename Emit>
  void Burst(rte_mbuf* const* pkts, uint16_t n, Emit emit) {
    uint32_t id[kMaxBurst];
    for (uint16_t i = 0; i < n; ++i) {
      const uint8_t* d = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
      id[i] = (uint32_t(d[27]) << 16 | uint32_t(d[28]) << 8 | d[29]) & (n_ - 1);
      rte_prefetch0(&st_[id[i]]);
      if (defer_) rte_prefetch0(reinterpret_cast<char*>(&st_[id[i]]) + 64);
    }
    if (!lag_) return Apply(pkts, id, n, emit);
    Apply(lag_pkts_, lag_id_, lag_n_, emit);
    memcpy(lag_pkts_, pkts, n * sizeof(pkts[0]));
    memcpy(lag_id_, id, n * sizeof(id[0]));
    lag_n_ = n;
  }

  // Emits every held flow (`emit(head)`).
  template <typename Emit>
  void FlushAll(Emit emit) {
    Apply(lag_pkts_, lag_id_, lag_n_, emit);
    lag_n_ = 0;
    for (uint32_t f = 0; f < n_; ++f) {
      if (f + kFlushAhead < n_) {
        const State& a = st_[f + kFlushAhead];
        rte_prefetch0(&st_[f + 2 * kFlushAhead]);
        if (defer_) {
          rte_prefetch0(
              reinterpret_cast<const char*>(&st_[f + 2 * kFlushAhead]) + 64);
        }
        if (a.segs != 0) {
          rte_prefetch0(a.head);
          rte_prefetch0(reinterpret_cast<char*>(a.head) + 64);
          for (uint32_t k = 0; defer_ && k + 2 < a.segs; ++k) {
            rte_prefetch0(reinterpret_cast<char*>(a.held[k]) + 64);
          }
        }
      }
      // The head's header line, once its mbuf has arrived.
      if (f + kFlushAhead / 2 < n_ && st_[f + kFlushAhead / 2].segs != 0) {
        rte_prefetch0(rte_pktmbuf_mtod(st_[f + kFlushAhead / 2].head, char*));
      }
      if (st_[f].segs != 0) Emit1(st_[f], emit);
    }
  }

 private:
  static constexpr uint16_t kMaxBurst = 32;
  static constexpr uint16_t kTailAhead = 8;
  static constexpr uint32_t kFlushAhead = 8;
  static constexpr uint32_t kMaxHeld = 10;    // kChainAtFlush: in the state
  static constexpr uint32_t kMaxSegs = 64;    // kChainOnArrival: as ours
  static constexpr uint16_t kHeaderLen = 54;  // Ethernet + IPv4 + TCP
  // Two lines: the defer variant keeps up to kMaxHeld pointers; the other
  // touches only the first line.
  struct alignas(64) State {
    __m128i key;
    rte_mbuf* head;
    rte_mbuf* tail;
    uint32_t segs, bytes;
    rte_mbuf* held[kMaxHeld - 1];
    uint16_t mss;
  };
  static_assert(sizeof(State) == 128);

  template <typename Emit>
  void Apply(rte_mbuf* const* pkts, const uint32_t* id, uint16_t n,
             Emit& emit) {
    for (uint16_t i = 0; i < n; ++i) {
      if (!defer_ && i + kTailAhead < n) {
        const State& a = st_[id[i + kTailAhead]];
        if (a.segs != 0) rte_prefetch0(reinterpret_cast<char*>(a.tail) + 64);
      }
      rte_mbuf* m = pkts[i];
      State& s = st_[id[i]];
      const __m128i k = _mm_loadu_si128(
          reinterpret_cast<const __m128i*>(rte_pktmbuf_mtod(m, uint8_t*) + 16));
      if (s.segs != 0 &&
          (s.segs == (defer_ ? kMaxHeld : kMaxSegs) ||
           !_mm_testz_si128(_mm_xor_si128(s.key, k), _mm_set1_epi32(-1)))) {
        Emit1(s, emit);  // (full: one flow's window, or not its packet)
      }
      if (s.segs == 0) {
        s.key = k;
        s.head = m;
      } else {
        if (s.segs == 1) s.mss = uint16_t(m->data_len - kHeaderLen);
        // A merge strips the appended segment's headers (hot: just
        // received).
        m->data_off += kHeaderLen;
        m->data_len -= kHeaderLen;
        if (!defer_) s.tail->next = m;
      }
      if (defer_ && s.segs != 0) s.held[s.segs - 1] = m;
      s.tail = m;
      s.segs++;
      s.bytes += m->data_len;
    }
  }

  // A MERGE output as the issue defines it: the chain, the head's lengths,
  // its IPv4 total length and header checksum (RFC 1624 update), and the
  // TSO metadata (ol_flags, tx_offload: the head's second line).
  template <typename Emit>
  void Emit1(State& s, Emit& emit) {
    if (defer_) {
      rte_mbuf* prev = s.head;
      for (uint32_t k = 0; k + 1 < s.segs; ++k) {
        prev->next = s.held[k];
        prev = s.held[k];
      }
    }
    rte_mbuf* h = s.head;
    s.tail->next = nullptr;
    h->pkt_len = s.bytes;
    h->nb_segs = uint16_t(s.segs);
    uint8_t* ip = rte_pktmbuf_mtod(h, uint8_t*) + 14;
    const uint16_t old_len = uint16_t(ip[2] << 8 | ip[3]);
    const uint16_t new_len = uint16_t(s.bytes - 14);
    ip[2] = uint8_t(new_len >> 8);
    ip[3] = uint8_t(new_len);
    uint32_t sum =
        uint16_t(~(ip[10] << 8 | ip[11])) + uint16_t(~old_len) + new_len;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    const uint16_t csum = uint16_t(~sum);
    ip[10] = uint8_t(csum >> 8);
    ip[11] = uint8_t(csum);
    h->ol_flags |=
        RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
    h->l2_len = 14;
    h->l3_len = 20;
    h->l4_len = 20;
    h->tso_segsz = uint16_t(s.mss);
    emit(h);
    s.segs = 0;
    s.bytes = 0;
  }

  const bool defer_, lag_;
  rte_mbuf* lag_pkts_[kMaxBurst];
  uint32_t lag_id_[kMaxBurst];
  uint16_t lag_n_ = 0;
  uint32_t n_;
  State* st_;
};

}  // namespace grod::gro::bench

#endif  // GROD_DATAPLANE_BENCH_GRO_FLOOR_H_
