// Keeps a GuestOffloadTable entry equal to what the guest attached to a
// vhost-user port negotiated: refreshed from the vhost library when the
// port's link or queue state changes (a guest attaching, leaving,
// enabling queues), so the workers never ask the library per packet.
#ifndef GROD_DATAPLANE_RUNTIME_GUEST_WATCH_H_
#define GROD_DATAPLANE_RUNTIME_GUEST_WATCH_H_

#include <cstdint>

#include "absl/status/status.h"
#include "common/dataplane_types.h"
#include "dataplane/runtime/guest_offloads.h"

namespace grod::dataplane {

// The GuestOffload bits a guest's features give egress (0 if none is
// attached).
uint8_t GuestOffloadsOf(const ConsumerFeatures& features);

// The largest packet to hand a guest whole, given the size of its smallest
// receive ring (descriptors): what half the ring holds in the smallest
// buffers a guest posts, so one packet never needs more than the guest
// has, nor all of it (0: no ring).
uint32_t GuestMaxBytesFor(uint16_t smallest_rx_ring);

// Adds vhost-user port `port_id` to `table` and keeps its state current
// until UnwatchGuest.  `table` must outlive the watch.
absl::Status WatchGuest(uint16_t port_id, GuestOffloadTable* table);
void UnwatchGuest(uint16_t port_id, GuestOffloadTable* table);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_GUEST_WATCH_H_
