// What a TX port would refuse or send wrong, checked frame by frame for
// tests of the egress path.  It reads the frame's bytes itself (Ethernet,
// 802.1Q/QinQ, IPv4/IPv6, TCP/UDP, VXLAN) and shares no code with the GRO
// engine's parser or egress, so it can catch what they get wrong.
#ifndef GROD_DATAPLANE_TESTING_FRAME_VALIDATOR_H_
#define GROD_DATAPLANE_TESTING_FRAME_VALIDATOR_H_

#include <rte_mbuf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/dataplane_types.h"
#include "dataplane/testing/ring_port.h"

namespace grod::dataplane::testing {

// A transmitted frame: its bytes and the mbuf metadata a PMD acts on.
struct TxFrame {
  std::vector<uint8_t> bytes;
  uint64_t ol_flags = 0;
  uint16_t nb_segs = 0;
  std::vector<uint16_t> seg_lens;  // data_len of each mbuf of the chain
  uint16_t tso_segsz = 0;
  uint16_t l2_len = 0, l3_len = 0, l4_len = 0;
  uint16_t outer_l2_len = 0, outer_l3_len = 0;
};

// Copies a frame's bytes and metadata (the mbuf is not freed).
TxFrame Capture(const rte_mbuf* m);

// Everything the port transmitted so far (mbufs freed).
std::vector<TxFrame> CollectTxFrames(RingPort& port);

// What is wrong with `f` for a port with `caps`; empty when the port can
// send it as it is and every checksum on the wire will be right:
// - without TSO/USO flags: at most caps.mtu bytes from the outermost IP
//   header on, at most tx_max_mtu_segments mbufs (one without
//   multi_segment_tx);
// - with TSO/USO: the port has that TSO (VXLAN: vxlan_tso and the outer
//   checksum offloads it needs), tso_segsz >= tso_min_segsz, headers +
//   tso_segsz within the MTU, size within tso_max_bytes, at most
//   tx_max_segments mbufs and tx_max_mtu_segments per segment, mbuf
//   header lengths matching the headers;
// - IPv4 header checksums right unless the offload is requested and
//   enabled; TCP/UDP checksums right (UDP 0 only over IPv4; the outer
//   UDP checksum of VXLAN over IPv6 is never 0) unless requested and
//   enabled, in which case the field holds the pseudo-header sum;
// - IPv4 fragments: not DF, offset + length within 65535, every fragment
//   but the last a multiple of 8 bytes.
// `vxlan_port`: the UDP port that carries VXLAN.
std::vector<std::string> ValidateTxFrame(const TxFrame& f,
                                         const PortCapabilities& caps,
                                         uint16_t vxlan_port = 4789);

// All problems of all frames, each prefixed with the frame's index.
std::vector<std::string> ValidateTxFrames(const std::vector<TxFrame>& frames,
                                          const PortCapabilities& caps);

}  // namespace grod::dataplane::testing

#endif  // GROD_DATAPLANE_TESTING_FRAME_VALIDATOR_H_
