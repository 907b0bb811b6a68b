// Bucket bounds of the "segments per GRO output packet" histogram.
//
// The GRO engine counts outputs per bucket, the data plane reports them in
// TenantCounters::segments_per_output, and the exporter turns them into
// grod_gro_segments_per_output; all must agree, so the bounds and the bucket
// rule live here, once.
#ifndef GROD_COMMON_SEGMENT_BUCKETS_H_
#define GROD_COMMON_SEGMENT_BUCKETS_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace grod {

// Inclusive upper bounds. Powers of two, so SegmentBucketIndex is one
// instruction on the fast path; 64 matches FlushPolicy::max_segments' default.
inline constexpr std::array<uint32_t, 7> kSegmentBuckets = {1,  2,  4, 8,
                                                            16, 32, 64};

// segments_per_output has one more entry than kSegmentBuckets: the last one
// counts outputs above kSegmentBuckets.back() (the +Inf bucket).
inline constexpr size_t kSegmentBucketCount = kSegmentBuckets.size() + 1;

// The bucket a data-plane worker increments for an output packet carrying
// `segments` segments. Buckets are NOT cumulative: each output increments
// exactly one entry (single-writer per lcore, no loop); the exporter
// accumulates them into Prometheus' cumulative `le` buckets at scrape time.
//   0 or 1 -> 0, 2 -> 1, 3..4 -> 2, 5..8 -> 3, ..., 33..64 -> 6, >64 -> 7.
constexpr size_t SegmentBucketIndex(uint32_t segments) {
  if (segments <= 1) return 0;
  const size_t i = std::bit_width(segments - 1);
  return i < kSegmentBuckets.size() ? i : kSegmentBuckets.size();
}

}  // namespace grod

#endif  // GROD_COMMON_SEGMENT_BUCKETS_H_
