// Plain C++ value types shared by the control plane and the data plane.
// No DPDK, gRPC or protobuf here: this header is the seam between them
// (the control plane converts protos to these, the data plane consumes them).
#ifndef GROD_COMMON_DATAPLANE_TYPES_H_
#define GROD_COMMON_DATAPLANE_TYPES_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/limits.h"

namespace grod {

enum class GroMode : uint8_t { kMerge = 1, kList = 2, kBypass = 3 };

// Bit flags of the GRO families a context aggregates.
enum GroTypeBit : uint32_t {
  kGroTcp4 = 1u << 0,
  kGroTcp6 = 1u << 1,
  kGroUdp4 = 1u << 2,
  kGroUdp6 = 1u << 3,
  kGroIpv4Frag = 1u << 4,
  kGroVxlan = 1u << 5,
  kGroAll = (1u << 6) - 1,
};

enum class FlushKind : uint8_t { kPerBurst = 1, kTimeout = 2, kAdaptive = 3 };

struct FlushPolicy {
  FlushKind kind = FlushKind::kPerBurst;
  uint64_t timeout_ns = 0;                      // TIMEOUT / ADAPTIVE
  uint32_t max_merged_bytes = kMaxMergedBytes;  // merged IP payload limit
  uint32_t max_segments = kMaxSegments;
  bool operator==(const FlushPolicy&) const = default;
};

struct TrafficSelector {
  std::optional<uint16_t> port_id;
  std::optional<uint16_t> vlan_id;  // 0 = untagged
  std::optional<uint32_t> vni;
  bool operator==(const TrafficSelector&) const = default;
};

struct TenantSpec {
  std::string name;
  std::vector<TrafficSelector> selectors;
  uint32_t max_flows = kDefaultMaxFlows;               // per worker lcore
  uint32_t max_held_packets = kDefaultMaxHeldPackets;  // per worker lcore
  uint32_t gro_types = kGroAll;
  GroMode default_mode = GroMode::kMerge;
  FlushPolicy flush;
  bool operator==(const TenantSpec&) const = default;
};

// A destination prefix; `addr` holds 4 (IPv4) or 16 (IPv6) meaningful bytes.
struct IpPrefix {
  bool is_v6 = false;
  std::array<uint8_t, 16> addr{};
  uint8_t length = 0;
  bool operator==(const IpPrefix&) const = default;
  bool operator<(const IpPrefix& o) const {
    if (is_v6 != o.is_v6) return !is_v6;
    if (addr != o.addr) return addr < o.addr;
    return length < o.length;
  }
};

struct RouteHint {
  IpPrefix prefix;
  GroMode mode = GroMode::kMerge;
  bool operator==(const RouteHint&) const = default;
};

struct PortCapabilities {
  bool tcp_tso = false;
  bool udp_tso = false;
  bool ipv4_checksum = false;
  bool tcp_checksum = false;
  bool udp_checksum = false;
  bool multi_segment_tx = false;
  bool vxlan_tso = false;
  // Outer-header checksums of tunnelled (VXLAN) packets; without them
  // egress computes these in software and VXLAN goes to software GSO.
  bool outer_ipv4_checksum = false;
  bool outer_udp_checksum = false;
  // Largest packet (from the IP header on) the port's TSO takes: 65535
  // unless the configuration says the NIC takes BIG TCP packets.
  uint32_t tso_max_bytes = 65535;
  // The port's configured MTU (IP header to end): a frame without TSO/USO
  // flags leaves at most this large (larger IPv4 ones are fragmented).
  uint32_t mtu = 1500;
  // From rte_eth_dev_info.tx_desc_lim: mbufs the PMD takes in one TSO
  // packet (nb_seg_max) and in one frame on the wire (nb_mtu_seg_max).
  uint16_t tx_max_segments = 65535;
  uint16_t tx_max_mtu_segments = 65535;
  // Smallest tso_segsz handed to the port's TSO/USO (DPDK reports none;
  // several PMDs reject small ones, e.g. i40e/iavf below 256): merged
  // packets of smaller segments go through software GSO.
  uint16_t tso_min_segsz = 256;
  // Configured (ports[].merged_without_tso: SEGMENT_IN_SOFTWARE), not
  // probed: MERGE towards this port merges even what the port cannot take
  // whole, and egress's software GSO cuts it back into MTU frames -- as
  // MERGE did before such traffic was linked instead.  Two payload reads
  // per segment; there to run the merge engine end to end on ports
  // without TSO (validation, tests).  false: such MERGE traffic is linked.
  bool segment_merged_in_software = false;
};

// What a port delivers to: a NIC (or a virtual test device), a kernel
// netdev through AF_XDP or AF_PACKET, a VM over vhost-user, a tap (DPDK's
// net_tap), or grod's own tap with virtio-net headers (kVnetTap: merged
// packets reach the kernel as GSO packets).
enum class PortKind {
  kNic,
  kAfXdp,
  kAfPacket,
  kVhostUser,
  kTap,
  kVirtual,
  kVnetTap
};

// What the port's consumer negotiated with grod: for a vhost-user port the
// guest's virtio-net features (TSO/USO and checksum on its receive side,
// mergeable RX buffers), read from the vhost library; for a kVnetTap port
// the offloads the kernel accepted for what it hands grod (TUNSETOFFLOAD:
// TSO4/6, USO, partial checksums); other kinds have no negotiation and
// report nothing.
struct ConsumerFeatures {
  bool negotiated = false;  // a consumer is attached and negotiated
  bool tso4 = false;        // VIRTIO_NET_F_GUEST_TSO4
  bool tso6 = false;        // VIRTIO_NET_F_GUEST_TSO6
  bool uso = false;         // VIRTIO_NET_F_GUEST_USO4/6 (or UFO)
  bool checksum = false;    // VIRTIO_NET_F_GUEST_CSUM: partial checksums
  bool mergeable_rx_buffers = false;  // VIRTIO_NET_F_MRG_RXBUF
};

struct PortInfo {
  uint16_t port_id = 0;
  std::string name;
  std::string driver;
  std::string mac_address;
  uint16_t rx_queues = 0;
  uint16_t tx_queues = 0;
  PortCapabilities capabilities;
  uint16_t peer_port_id = 0;
  bool link_up = false;
  uint32_t link_speed_mbps = 0;
  uint32_t mtu = 0;
  PortKind kind = PortKind::kNic;
  ConsumerFeatures consumer;
};

struct PortCounters {
  uint16_t port_id = 0;
  std::string name;
  uint64_t rx_packets = 0, rx_bytes = 0;
  uint64_t tx_packets = 0, tx_bytes = 0, tx_dropped = 0;
  uint64_t rx_missed = 0;
  uint64_t gso_segments = 0;
  // From the driver (rte_eth_stats): RX allocations that found the mbuf
  // pool empty (rx_nombuf), erroneous received packets (ierrors) and
  // failed transmissions (oerrors).
  uint64_t rx_nombuf = 0;
  uint64_t rx_errors = 0;
  uint64_t tx_errors = 0;
  uint64_t ip_fragments = 0;  // IPv4 fragments made to fit the port's MTU
  // tx_dropped by reason (names: dataplane/runtime/tx_drop.h); only
  // reasons that happened appear.
  std::map<std::string, uint64_t> tx_drops;
};

// Summed over all worker lcores at the time of the read.
struct TenantCounters {
  std::string tenant;
  uint64_t packets_in = 0, bytes_in = 0, packets_out = 0;
  // packets_out by kind; they add up to it (up to a read in flight):
  //   merged_packets_out + list_packets_out + single_packets_out
  //   + every passthrough reason (bypass_packets among them, as "bypass").
  uint64_t merged_packets_out = 0, list_packets_out = 0;
  // A lone segment that went through GRO: nothing held to merge it with.
  uint64_t single_packets_out = 0;
  uint64_t segments_merged = 0, segments_listed = 0;
  uint64_t bypass_packets = 0;
  // MERGE-mode packets taken as LIST because the port their output leaves
  // by cannot take a merged packet whole (no TSO/USO for their kind, a
  // vhost-user guest without TSO): egress sends them as they came.  Also
  // in the LIST counters (list_packets_out, segments_listed, single...).
  uint64_t merge_as_list_packets = 0;
  uint64_t held_flows = 0, held_packets = 0;
  // Output packets by how many segments they carry, NOT cumulative: entry
  // i counts outputs in bucket SegmentBucketIndex() == i of
  // common/segment_buckets.h (the last entry is above the largest bound).
  std::vector<uint64_t> segments_per_output;
  std::map<std::string, uint64_t> passthrough;  // reason -> packets
  std::map<std::string, uint64_t> flushes;      // reason -> flush events
};

struct WorkerCounters {
  uint32_t lcore = 0;
  // TSC cycles (StatsSnapshot::tsc_hz per second) spent in polls.
  uint64_t busy_cycles = 0;   // polls that returned packets
  uint64_t total_cycles = 0;  // all polls
  // Liveness: the worker stopped polling (no heartbeat for the stall
  // timeout), and how many times that was detected.
  bool stalled = false;
  uint64_t stalls = 0;
  // Loop iterations that found the mbuf pool below the pressure threshold,
  // and the held flows flushed then (largest holders first).
  uint64_t pressure_iterations = 0;
  uint64_t pressure_flushed_flows = 0;
};

struct MempoolCounters {
  std::string name;
  uint64_t size = 0;    // mbufs
  uint64_t in_use = 0;  // taken from the pool (includes per-lcore caches)
};

struct StatsSnapshot {
  std::vector<TenantCounters> tenants;
  std::vector<PortCounters> ports;
  std::vector<WorkerCounters> workers;
  std::vector<MempoolCounters> mempools;
  uint64_t config_generation = 0;
  // Cycles per second of the workers' cycle counters (0: unknown).
  uint64_t tsc_hz = 0;
};

// The packet mbufs tenants may hold. Every worker lcore may hold up to the
// sum of its tenants' max_held_packets at once, and the data plane needs
// `reserve` mbufs for itself (full RX rings, TX rings, bursts in hand,
// egress batches, software GSO, per-lcore pool caches; the data plane
// defines it, see dataplane/dpdk_dataplane.cc MbufReserve). The control
// plane admits tenant quotas only while
//   sum(max_held_packets) * worker_lcores + reserve <= pool_size
// so no tenant can starve RX for the others.
struct MbufBudget {
  uint64_t pool_size = 0;
  uint64_t reserve = 0;
  uint32_t worker_lcores = 0;
  // What the tenants' max_held_packets may sum to (per worker lcore).
  uint64_t HeldPacketsPerLcore() const {
    if (worker_lcores == 0 || pool_size <= reserve) return 0;
    return (pool_size - reserve) / worker_lcores;
  }
  bool operator==(const MbufBudget&) const = default;
};

struct DataPlaneInfo {
  std::string dpdk_version;
  uint32_t main_lcore = 0;
  std::vector<uint32_t> worker_lcores;
};

}  // namespace grod

#endif  // GROD_COMMON_DATAPLANE_TYPES_H_
