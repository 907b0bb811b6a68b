// A Linux tap that grod creates itself (not an rte_ethdev): the kernel
// side of a container or of any netns, without vhost-net.  Opened with
// IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE, one file descriptor
// (queue) per worker lcore, each used by that lcore only.
//
// TX (into the kernel): one writev() of virtio-net header + the frame's
// mbufs per packet, so a merged packet enters the receiver's stack as one
// GSO skb.  RX (from the kernel): with TUNSETOFFLOAD (CSUM, TSO4/6, USO4/6
// where the kernel has them) the kernel hands over its own GSO packets,
// read into mbuf chains from a per-queue stash (no allocation per read
// beyond refilling the stash from the pool).  Both non-blocking.
#ifndef GROD_DATAPLANE_RUNTIME_VNET_TAP_H_
#define GROD_DATAPLANE_RUNTIME_VNET_TAP_H_

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/dataplane_types.h"
#include "dataplane/runtime/tx_drop.h"

namespace grod::dataplane {

// One queue of a tap: its descriptor and receive stash.  Written only by
// the lcore that owns it; counters read with ReadCounter().
class TapQueue {
 public:
  // Mbufs one read may fill: a 64 KiB GSO packet with its Ethernet and
  // VLAN headers in mbufs of RTE_MBUF_DEFAULT_DATAROOM bytes, plus room.
  static constexpr uint16_t kMaxChain = 36;
  // Mbufs one frame written may have (iovecs per writev, header first).
  static constexpr uint16_t kMaxTxSegments = 63;

  TapQueue(int fd, rte_mempool* pool) : fd_(fd), pool_(pool) {}
  ~TapQueue();
  TapQueue(const TapQueue&) = delete;
  TapQueue& operator=(const TapQueue&) = delete;

  // Reads up to n frames; returns how many are in pkts.  Malformed ones
  // (header and frame disagree) are freed and counted in rx_errors.
  uint16_t Receive(rte_mbuf** pkts, uint16_t n);

  // Writes one frame (which the caller frees after, sent or not).
  // Returns true, or false with *why set: the kernel's queue was full
  // (EAGAIN/ENOBUFS -> kTxDropRingFull), the metadata or the kernel refused
  // the frame (kTxDropUnsendable), the interface is down (kTxDropLinkDown).
  bool Transmit(rte_mbuf* m, TxDrop* why);

  int fd() const { return fd_; }
  uint64_t rx_errors = 0;  // frames read that were dropped as malformed
  uint64_t rx_nombuf = 0;  // reads skipped: the pool could not refill
  uint64_t tx_errors = 0;  // writes the kernel refused

 private:
  // Tops the stash up to kMaxChain mbufs; false if the pool is short.
  bool Refill();

  const int fd_;
  rte_mempool* const pool_;
  uint16_t stash_count_ = 0;
  rte_mbuf* stash_[kMaxChain];
};

class VnetTap {
 public:
  struct Options {
    std::string interface;  // kernel name, at most 15 bytes
    uint16_t queues = 1;    // one per worker lcore
    uint16_t mtu = 0;       // 0: the kernel's default (1500)
  };
  // Creates (or attaches to) the tap and sets its offloads; the interface
  // is brought up.  Errors say what to do (module, permissions, name).
  static absl::StatusOr<std::unique_ptr<VnetTap>> Open(const Options& options,
                                                       rte_mempool* pool);
  // Closes every queue (a tap grod created disappears with its last one)
  // and returns the stashed mbufs to the pool.
  ~VnetTap();

  TapQueue* queue(uint16_t q) { return queues_[q].get(); }
  uint16_t queue_count() const { return queues_.size(); }
  const std::string& interface() const { return interface_; }
  // The interface's MAC address ("" if the kernel does not say).
  std::string MacAddress() const;
  // What egress may hand it: TSO4/6, USO (kernel >= 6.2), checksum
  // requests, IPv4 header checksums (done while writing), chains.
  PortCapabilities capabilities() const { return caps_; }
  // The offloads the kernel accepted for what it sends grod (TUNSETOFFLOAD).
  ConsumerFeatures consumer() const { return consumer_; }

 private:
  VnetTap() = default;
  std::string interface_;
  std::vector<std::unique_ptr<TapQueue>> queues_;
  PortCapabilities caps_;
  ConsumerFeatures consumer_;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_VNET_TAP_H_
