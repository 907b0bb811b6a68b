#include "dataplane/runtime/guest_watch.h"

#include <rte_cycles.h>
#include <rte_eth_vhost.h>
#include <rte_ethdev.h>
#include <rte_vhost.h>

#include <cerrno>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "dataplane/runtime/port_kind.h"

namespace grod::dataplane {
namespace {

// The vhost event thread and the control thread (first read) may refresh
// the same port at once: one at a time, so the last store is current.
std::mutex refresh_mutex;

// The smallest of the guest's receive rings (even vrings: the guest's RX
// queues, where vhost enqueues); 0 if none is set up.
uint16_t SmallestRxRing(uint16_t port_id) {
  const int vid = rte_eth_vhost_get_vid_from_port_id(port_id);
  if (vid < 0) return 0;
  const uint16_t vrings = rte_vhost_get_vring_num(vid);
  uint16_t smallest = 0;
  for (uint16_t i = 0; i < vrings; i += 2) {
    rte_vhost_vring v{};
    if (rte_vhost_get_vhost_vring(vid, i, &v) != 0 || v.size == 0) continue;
    if (smallest == 0 || v.size < smallest) smallest = v.size;
  }
  return smallest;
}

void Refresh(uint16_t port_id, GuestOffloadTable* table) {
  std::lock_guard<std::mutex> lock(refresh_mutex);
  rte_eth_link link{};
  const bool up = rte_eth_link_get_nowait(port_id, &link) == 0 &&
                  link.link_status == RTE_ETH_LINK_UP;
  const uint8_t bits =
      up ? GuestOffloadsOf(ConsumerOf(port_id, PortKind::kVhostUser)) : 0;
  const uint32_t max = bits ? GuestMaxBytesFor(SmallestRxRing(port_id)) : 0;
  table->state[port_id].store(GuestState(bits, max), std::memory_order_release);
}

// net_vhost raises LSC when a guest becomes ready or leaves and
// QUEUE_STATE when it enables or disables a queue.
int OnEvent(uint16_t port_id, rte_eth_event_type, void* table, void*) {
  Refresh(port_id, static_cast<GuestOffloadTable*>(table));
  return 0;
}

constexpr rte_eth_event_type kEvents[] = {RTE_ETH_EVENT_INTR_LSC,
                                          RTE_ETH_EVENT_QUEUE_STATE};

}  // namespace

uint32_t GuestMaxBytesFor(uint16_t smallest_rx_ring) {
  return smallest_rx_ring / 2 * kMinGuestRxBuffer;
}

uint8_t GuestOffloadsOf(const ConsumerFeatures& f) {
  if (!f.negotiated) return 0;
  return (f.tso4 ? kGuestTso4 : 0) | (f.tso6 ? kGuestTso6 : 0) |
         (f.checksum ? kGuestCsum : 0) |
         (f.mergeable_rx_buffers ? kGuestMrgRxbuf : 0);
}

absl::Status WatchGuest(uint16_t port_id, GuestOffloadTable* table) {
  if (port_id >= RTE_MAX_ETHPORTS || table->count >= RTE_MAX_ETHPORTS) {
    return absl::InvalidArgumentError(absl::StrCat("port ", port_id));
  }
  for (rte_eth_event_type e : kEvents) {
    const int rc = rte_eth_dev_callback_register(port_id, e, OnEvent, table);
    if (rc != 0) {
      UnwatchGuest(port_id, table);
      return absl::InternalError(
          absl::StrCat("cannot watch vhost-user port ", port_id,
                       " for guest events: ", rte_strerror(-rc)));
    }
  }
  table->ports[table->count++] = port_id;
  Refresh(port_id, table);  // a guest may be attached already (client=1)
  return absl::OkStatus();
}

void UnwatchGuest(uint16_t port_id, GuestOffloadTable* table) {
  for (rte_eth_event_type e : kEvents) {
    // -EAGAIN: the callback is running on the vhost thread right now (it
    // takes microseconds); the table must not be freed under it.
    for (int tries = 0;
         tries < 1000 &&
         rte_eth_dev_callback_unregister(port_id, e, OnEvent, table) == -EAGAIN;
         ++tries) {
      rte_delay_ms(1);
    }
  }
  table->state[port_id].store(0, std::memory_order_release);
}

}  // namespace grod::dataplane
