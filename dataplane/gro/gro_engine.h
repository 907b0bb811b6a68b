// grod's GRO engine: parses packets itself (never trusts mbuf l2/l3/l4_len
// or packet_type), keeps flows in an O(1) open-addressing table, tolerates
// reordering, and emits either merged packets carrying TSO/USO metadata
// (MERGE) or linked lists of untouched packets (LIST, Linux fraglist
// semantics).  DPDK's rte_gro is only a baseline in tests and benchmarks.
//
// Threading: a Context belongs to one lcore and is NOT thread-safe, by
// design -- no locks on the fast path.  Process/Flush* allocate nothing.
#ifndef GROD_DATAPLANE_GRO_GRO_ENGINE_H_
#define GROD_DATAPLANE_GRO_GRO_ENGINE_H_

#include <rte_mbuf.h>
#include <rte_memory.h>

#include <cstdint>
#include <memory>

#include "common/limits.h"
#include "common/segment_buckets.h"

namespace grod::gro {

// Same numbering as grod::GroMode (common/dataplane_types.h).
enum class Mode : uint8_t { kMerge = 1, kList = 2, kBypass = 3 };

// Bit flags, same values as grod::GroTypeBit.  kVxlan enables the
// encapsulated variant of every other enabled type.
enum GroType : uint32_t {
  kTcp4 = 1,
  kTcp6 = 2,
  kUdp4 = 4,
  kUdp6 = 8,
  kIpv4Frag = 16,
  kVxlan = 32,
  kAll = 63,
};

// Why a packet left the engine without being held.  kPassNone means "GRO
// candidate".  Names in kPassReasonNames (stable, used as metric labels).
enum PassReason : uint8_t {
  kPassNone = 0,
  kPassNotIp,            // not IPv4/IPv6 (ARP, LLDP, ...) or >2 VLAN tags
  kPassTruncated,        // a header runs past the end of the packet
  kPassBadIpHeader,      // version / IHL / total length inconsistent
  kPassIpLength,         // IP length larger than the bytes present
  kPassEthPadding,       // bytes after the IP datagram (Ethernet padding)
  kPassBadL4Header,      // TCP data offset / UDP length inconsistent
  kPassMultiSeg,         // headers not within the first mbuf segment
  kPassUnsupportedL4,    // not TCP/UDP, IPv6 extension headers, ...
  kPassTypeDisabled,     // GRO type not enabled in this context
  kPassTcpFlags,         // SYN/RST/URG/ECE/CWR
  kPassNoPayload,        // nothing to coalesce (pure ACK, empty datagram)
  kPassDuplicate,        // overlaps data already held for the flow
  kPassBadChecksum,      // MERGE, verify_checksums, a checksum is wrong
  kPassBypass,           // Mode::kBypass (also counted in Counters::bypass)
  kPassUdpZeroChecksum,  // UDP checksum 0: never merged (as Linux)
  kPassAggregated,       // already aggregated: NIC LRO (RX_LRO) or a GSO packet
  kPassHashCollision,    // no flow slot within the bounded probe (flooding)
  kPassReasonCount,
};
extern const char* const kPassReasonNames[kPassReasonCount];

// Why a held flow was emitted.  Names in kFlushReasonNames.
enum FlushReason : uint8_t {
  kFlushTimeout = 0,  // FlushTimedOut
  kFlushSize,         // max_merged_bytes / max_segments / short segment
  kFlushFlags,        // PSH/FIN merged, or fragment set complete
  kFlushTableFull,    // max_flows / max_held_packets: oldest flow evicted
  kFlushExplicit,     // FlushAll(kFlushExplicit) / FlushFlowOf
  kFlushConfig,       // FlushAll(kFlushConfig) on a config change
  kFlushMismatch,     // same flow, different ACK/options/TTL/mode/...
  kFlushPassthrough,  // a packet of the flow had to pass unmerged
  kFlushReorder,      // a TCP segment not continuing the held run, or
                      // too many fragment runs held for the flow
  kFlushBurstEnd,     // end of ReassembleBurst
  kFlushPressure,     // the caller's mbuf pool ran low (FlushOldest)
  kFlushPairOrder,    // a packet of the address pair in another table, or
                      // passing unparsed (fragments vs. 5-tuples)
  kFlushReasonCount,
};
extern const char* const kFlushReasonNames[kFlushReasonCount];

// Output packets by the number of original segments they carry: bucket i
// counts outputs with <= kSegmentBuckets[i] segments; the last bucket
// (index kSegmentBucketCount - 1) is +Inf.
// The bounds are grod::kSegmentBuckets (common/segment_buckets.h), shared
// with the exporter.
inline constexpr int kSegmentBucketCount = grod::kSegmentBucketCount;

struct ParseConfig {
  uint16_t vxlan_port = 4789;
};

// Flow identity: every field that Linux/DPDK require equal for two packets
// to belong to one GRO flow, plus the ingress port (packets of one 5-tuple
// arriving on two ports go to different peers: never merged).  Zero-filled
// so it can be hashed and compared as bytes.  IPv4 addresses use the first
// 4 bytes.
struct alignas(16) FlowKey {
  // Hashed part (first 64 bytes): what usually tells flows apart.
  uint8_t src[16], dst[16];           // inner IP addresses
  uint16_t sport, dport;              // L4 ports; IPv4 fragments: IP ID, 0
  uint16_t outer_sport, outer_dport;  // VXLAN UDP ports
  uint32_t vni;                       // VNI | 1<<24 when VXLAN
  uint8_t type;                       // GroType bit (without kVxlan)
  uint8_t proto;                      // IP protocol
  uint16_t port;                      // rte_mbuf::port (ingress)
  uint8_t outer_src[16];              // VXLAN outer IP addresses
  // Compared, not hashed.
  uint8_t outer_dst[16];
  uint8_t mac[12], outer_mac[12];  // dst+src MAC of the GROed / VXLAN frame
  uint16_t tci[2];                 // VLAN TCIs of the outermost frame, 0 = none
  uint16_t inner_tci[2];           // VLAN TCIs of the VXLAN inner frame
};
static_assert(sizeof(FlowKey) == 112);

// Per-packet fields that must match the flow's head for a merge (Linux
// "flush" conditions), kept out of the key so that a change flushes the flow
// instead of creating a second, reorderable entry.
struct FlowAttrs {
  uint32_t ack;         // TCP ACK number
  uint32_t flow_label;  // IPv6 flow label (inner)
  // TCP flag/window word (data offset, reserved bits, flags, window)
  // without CWR/PSH/FIN: Linux flushes on any other difference.
  uint32_t tcp_word;
  uint8_t ttl, tos;  // inner TTL/hop limit, TOS/traffic class
  uint8_t outer_ttl, outer_tos;
  uint8_t df, outer_df;   // IPv4 DF bits (0/1)
  uint8_t opt_len;        // TCP option bytes (compared byte-wise)
  uint8_t udp_csum_zero;  // UDP checksum 0 vs. present never mix
};

// Result of parsing without trusting mbuf l2_len/l3_len/l4_len/packet_type.
// Offsets are from the start of the packet data.  For VXLAN, the "inner"
// fields describe the encapsulated packet and outer_* the tunnel.
struct ParsedPacket {
  // Classification fields used by the worker.
  uint16_t vlan_id;  // outer VLAN id, 0 = untagged
  bool has_vni;      // VXLAN
  uint32_t vni;
  bool dst_is_v6;
  uint8_t dst_ip[16];  // inner destination, network order (v4: first 4)

  // Engine fields.
  PassReason reason;  // kPassNone: GRO candidate of `type`
  bool key_valid;     // key/hash valid (flows can be looked up)
  // The (inner) IP header was parsed: key.src/dst, port and the VXLAN
  // fields (vni, outer addresses) are valid even when the rest is not --
  // the address pair, which keeps order across the engine's tables.
  bool pair_valid;
  uint32_t type;  // GroType bit of the inner packet (0 = none)
  bool is_v6;     // inner IP version 6
  bool outer_is_v6;
  uint8_t l4_proto;  // IPPROTO_TCP / IPPROTO_UDP (inner)
  uint8_t tcp_flags;
  uint8_t ecn;                          // inner IP ECN bits (TOS & 3)
  bool more_frags;                      // IPv4 MF (fragments)
  uint16_t outer_l3_off, outer_l4_off;  // VXLAN only
  uint16_t l2_off;  // inner Ethernet header (0 without VXLAN)
  uint16_t l3_off, l4_off, payload_off;
  uint16_t ip_id, outer_ip_id;
  uint32_t payload_len;  // L4 payload (fragments: IP payload)
  uint32_t seq;          // TCP seq / fragment byte offset
  uint32_t hash;         // of key
  FlowAttrs attrs;
  FlowKey key;
};

// Parses headers from the first mbuf segment (and m->port, the ingress
// port, into the key).  Always fills `out`; malformed packets get a
// PassReason (never returns false).
bool Parse(const rte_mbuf* m, const ParseConfig& cfg, ParsedPacket* out);

// Parse() over a burst, prefetching packets ahead.
void ParseBurst(rte_mbuf* const* pkts, uint16_t n, const ParseConfig& cfg,
                ParsedPacket* out);

// Largest merged TCP packet (IP header + TCP header + payload) with BIG TCP
// (max_merged_bytes above 65535), as Linux's BIG TCP GRO limit.
using ::grod::kMaxBigMergedBytes;

// The defaults are a tenant's (common/limits.h), so an engine built from a
// default TenantSpec and a default ContextConfig are the same engine.
struct ContextConfig {
  uint32_t max_flows = kDefaultMaxFlows;
  uint32_t max_held_packets = kDefaultMaxHeldPackets;
  uint32_t gro_types = kAll;
  // Limit on what the length field of the outermost IP header of a merged
  // packet counts (IPv4 total length / IPv6 payload length).  Up to 65535
  // for every type.  Plain TCP (no VXLAN) may go up to kMaxBigMergedBytes
  // ("BIG TCP", as Linux): a merged packet whose length no longer fits the
  // 16-bit field carries 0 there (IPv4 total length / IPv6 payload length,
  // Linux's convention; IPv4's header checksum matches the 0) and its
  // length is pkt_len.  Other types stay at 65535 (UDP and VXLAN length
  // fields, fragment offsets).  Larger values are clamped.
  uint32_t max_merged_bytes = kMaxMergedBytes;
  uint32_t max_segments = kMaxSegments;  // original packets per output (<= 64)
  uint16_t vxlan_port = 4789;
  // MERGE only: a segment whose checksums are bad (NIC verdict, else
  // checked in software) is never merged.  LIST and BYPASS never read a
  // payload for its checksum: they change no byte, the receiver checks.
  bool verify_checksums = false;
  int socket_id = SOCKET_ID_ANY;
  // Key of the flow table's hash (hash flooding, see flow_table.h): 0
  // picks a random one (rte_rand) per context; tests fix it.
  uint64_t hash_seed = 0;

  // Field by field (never memcmp: the struct has padding, whose bytes are
  // indeterminate).
  bool operator==(const ContextConfig&) const = default;
};

// Output sink: the engine appends packets; when full it calls
// drain(out, arg), which must empty it (set count to 0, e.g. transmit).
struct Output {
  rte_mbuf** pkts;
  uint16_t count;
  uint16_t capacity;
  void (*drain)(Output*, void*);
  void* arg;
};

// Single writer (the owning lcore); readers on other threads may see torn
// but monotonic-per-field values, which is fine for metrics.
struct Counters {
  uint64_t packets_in = 0, bytes_in = 0;
  // Every output (a merged packet or list = 1): merged_out + list_out +
  // single_out + the passthrough reasons.
  uint64_t packets_out = 0;
  uint64_t merged_out = 0;       // outputs merged from >= 2 segments
  uint64_t list_out = 0;         // lists of >= 2 packets
  uint64_t single_out = 0;       // a lone segment (nothing to merge with)
  uint64_t segments_merged = 0;  // input packets inside merged_out
  uint64_t segments_listed = 0;  // input packets inside list_out
  uint64_t bypass = 0;
  uint64_t passthrough[kPassReasonCount] = {};
  uint64_t flushes[kFlushReasonCount] = {};
  uint64_t segments_hist[kSegmentBucketCount] = {};
};

class FlowTable;

// One lcore owns a Context (see top of file).
class Context {
 public:
  // All memory is allocated here (rte_zmalloc_socket); nullptr on failure.
  // Registers the LIST dynamic field/flag if not yet done.
  static std::unique_ptr<Context> Create(const ContextConfig& cfg);
  // Frees (drops) any packets still held; call FlushAll first to deliver
  // them.  Never leaks.
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Takes ownership of `m`; it is held, merged, or appended to `out`
  // (possibly after packets of its flow that were held before it).
  void Process(rte_mbuf* m, const ParsedPacket& p, Mode mode, uint64_t now_tsc,
               Output* out);
  // Process() for pkts[0..n) in order (p[i] parsed from pkts[i]), with the
  // flow table prefetched ahead.
  void ProcessBurst(rte_mbuf* const* pkts, const ParsedPacket* p, uint16_t n,
                    Mode mode, uint64_t now_tsc, Output* out);
  // The fastest way in: parses and processes pkts[0..n) in order, all in
  // `mode` (so: one tenant, one mode), with exactly the outputs and
  // counters of Parse() + Process() per packet.  A packet of a flow seen
  // before (also after the flow was emitted, while its table entry is not
  // reused) takes a fast path: its
  // header bytes are compared with the flow's template (16 bytes per
  // compare, masking what legitimately changes: IP length/ID/checksum, TCP
  // seq/window/checksum/urgent pointer, UDP length/checksum), its length
  // fields and sequence number are checked, and it is appended without a
  // parse; the flow is found through the previous packet's flow or a hash
  // of a few header fields.  Anything else takes the full path.  Bursts of
  // any size (worked in 32s).
  void ProcessBurst(rte_mbuf* const* pkts, uint16_t n, Mode mode,
                    uint64_t now_tsc, Output* out);
  // For callers that parse and classify each packet themselves: processes
  // the longest prefix of pkts[0..n) whose packets continue the flow that
  // the last packet given to this context went into (same ingress port,
  // same headers but for lengths, IDs, checksums and sequence numbers, so
  // the same classification), via the fast path, and returns its length
  // (0 if that packet was not held).  The caller must only use it while the
  // mode it would pick for those packets is still the one it gave with that
  // packet (e.g. within one burst and one config snapshot).
  uint16_t ContinueFlow(rte_mbuf* const* pkts, uint16_t n, Output* out);
  // Emits every flow whose first held packet arrived at or before
  // now_tsc - max_age_tsc.
  void FlushTimedOut(uint64_t now_tsc, uint64_t max_age_tsc, Output* out);
  // Budgeted variants, for callers that must bound the work per call (a
  // poll loop): emit at most `max_flows` flows, oldest first, and return
  // how many were emitted.  Each flow is emitted whole and the rest stay
  // held in creation order, so repeated calls (until one returns less
  // than max_flows) emit what one unbudgeted call would, in the same order.
  uint32_t FlushTimedOut(uint64_t now_tsc, uint64_t max_age_tsc, Output* out,
                         uint32_t max_flows);
  uint32_t FlushOldest(Output* out, uint32_t max_flows,
                       FlushReason reason = kFlushExplicit);
  void FlushAll(Output* out, FlushReason reason = kFlushExplicit);
  // FlushAll(), then every entry is freed, idle ones (and their header
  // templates) included: one reset instead of reclaiming entries one by
  // one, for burst mode when flows rarely recur (see ReassembleBurst).
  void FlushAllAndForget(Output* out, FlushReason reason);
  // Burst mode, for a packet known to be the only one of its flow until
  // the flush at the burst's end: what Process() and that flush would do,
  // without holding it -- for a mergeable packet, emitted at once as a
  // one-packet flow flushed with `reason` (same output, same counters);
  // anything else goes through Process() and stays held.
  void ProcessAlone(rte_mbuf* m, Mode mode, FlushReason reason, Output* out);
  // Whether most flows emitted lately held a single packet.
  bool mostly_single_packet_flows() const;
  void FlushFlowOf(const ParsedPacket& p, Output* out);

  // Counts n packets of `bytes` in all as Process() in Mode::kBypass
  // would, for a caller that forwards them itself, unparsed (nothing of
  // their flows may be held: FlushAll() first).
  void CountBypassed(uint32_t n, uint64_t bytes) {
    counters_.packets_in += n;
    counters_.bytes_in += bytes;
    counters_.bypass += n;
    counters_.passthrough[kPassBypass] += n;
    counters_.packets_out += n;
    counters_.segments_hist[0] += n;
  }

  uint32_t held_flows() const;
  uint32_t held_packets() const;
  const Counters& counters() const { return counters_; }
  const ContextConfig& config() const { return cfg_; }

 private:
  friend class FastPath;
  explicit Context(const ContextConfig& cfg);
  ContextConfig cfg_;
  Counters counters_;
  FlowTable* table_ = nullptr;
  uint32_t last_flow_ = UINT32_MAX;  // flow of the last packet, if held
  // The last burst ended inside a run of last_flow_ taken by the streaming
  // loop: the next burst starts there (see FastPath::Chunk).
  bool streaming_ = false;
  // The ol_flags the fast path takes a packet with at once, by [mode is
  // MERGE]: {mask IPv4, mask IPv6, want IPv4, want IPv6}.  They follow from
  // the config alone, which never changes: set once by Create()
  // (FastPath::SetRxFlags), not per burst.
  alignas(16) uint64_t rx_flags_[2][4] = {};
};

// Burst mode (like rte_gro_reassemble_burst): everything is flushed before
// return; returns the number of packets now in pkts[0..).  Uses a cached
// per-thread context (created on first use / config change).
uint16_t ReassembleBurst(rte_mbuf** pkts, uint16_t n, Mode mode,
                         const ContextConfig& cfg);

// LIST representation.  A list is its first packet ("head") with the
// dynamic ol_flag "grod_gro_list" set.  Every member carries the dynamic
// field "grod_gro_list_link" {rte_mbuf* next; uint16_t count}: `next`
// links the members in order (NULL after the last), `count` (valid in the
// head) is the number of members.  Members are the original packets with
// no byte changed; only metadata changes (the head's l2/l3/l4_len and
// packet_type are set at output and copied to every member by Unlink).  A
// list must be Unlink()ed (or FreePacket()d) before transmission: no NIC
// understands it.
// Registers the field and flag; call after rte_eal_init.  Idempotent.
bool RegisterDynfield();
bool IsList(const rte_mbuf* m);
uint16_t ListLength(const rte_mbuf* head);  // 1 for a non-list packet
// Writes the original packets in order and clears the list flag; returns
// how many were written.  All or nothing: returns 0 (list untouched) when
// cap < ListLength(head).  A non-list packet yields itself.
uint16_t Unlink(rte_mbuf* head, rte_mbuf** out, uint16_t cap);
// Unlink() in chunks, for lists of any length: writes the first
// min(cap, length) packets of *list in order and leaves in *list the rest,
// still a list (or a plain packet, or nullptr once all were written).
uint16_t UnlinkSome(rte_mbuf** list, rte_mbuf** out, uint16_t cap);
// Frees a packet, a merged chain, or a whole list.
void FreePacket(rte_mbuf* m);

// Software GSO for egress ports without TSO/USO: a merged packet (with
// RTE_MBUF_F_TX_TCP_SEG / RTE_MBUF_F_TX_UDP_SEG) becomes MSS-sized packets
// with correct headers and checksums.  When the merged chain's mbufs are
// the original segments (direct, unshared, one MSS of payload each), each
// becomes a packet again with the headers written into its headroom;
// otherwise headers go into new mbufs from direct_pool and payload is
// referenced through indirect mbufs from indirect_pool (zero copy).
// tx_offloads: the egress port's RTE_ETH_TX_OFFLOAD_* bits; with TCP_CKSUM
// (UDP_CKSUM) a non-tunnelled TCP (UDP) segment's checksum field gets only
// the pseudo-header sum and the segment RTE_MBUF_F_TX_IPV4/IPV6 |
// RTE_MBUF_F_TX_TCP_CKSUM (UDP_CKSUM) with l2/l3/l4_len, for the NIC to
// finish; otherwise checksums are complete (ol_flags 0).  Consumes `merged`
// on success and returns the number of packets written to out; a packet
// without GSO flags is returned as is (1).  On failure (pools empty, cap
// too small) returns a negative errno and `merged` is untouched.
int Segment(rte_mbuf* merged, rte_mempool* direct_pool,
            rte_mempool* indirect_pool, rte_mbuf** out, uint16_t cap,
            uint64_t tx_offloads = 0);

}  // namespace grod::gro

#endif  // GROD_DATAPLANE_GRO_GRO_ENGINE_H_
