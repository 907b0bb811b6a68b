// Why egress dropped a packet instead of transmitting it.  Every packet
// handed to Egress is transmitted or freed and counted under one of these
// (PortLcoreCounters::tx_drops, exported per port and reason).
#ifndef GROD_DATAPLANE_RUNTIME_TX_DROP_H_
#define GROD_DATAPLANE_RUNTIME_TX_DROP_H_

#include <cstdint>

namespace grod::dataplane {

enum TxDrop : uint8_t {
  kTxDropRingFull = 0,  // the TX ring stayed full through every retry
  kTxDropNoMbufs,       // software GSO / fragmentation / copy found no mbufs
  kTxDropPrepare,       // the PMD's rte_eth_tx_prepare() refused the packet
  kTxDropTooBig,        // above the port's MTU and not fragmentable (DF,
                        // IPv6, not IP)
  kTxDropUnsendable,    // beyond the port's limits in a way egress cannot
                        // repair (too many mbufs to copy into one, bad
                        // offload metadata)
  kTxDropLinkDown,      // a tap port's interface was down (write: EIO)
  kTxDropReasonCount,
};

// Stable names, used as the metric `reason` label.
inline constexpr const char* kTxDropNames[kTxDropReasonCount] = {
    "tx_ring_full", "no_mbufs",   "tx_prepare",
    "too_big",      "unsendable", "link_down"};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_TX_DROP_H_
