// Maps a packet's (ingress port, outer VLAN, VXLAN VNI) to a tenant slot.
// Immutable once built: workers read it lock-free from a config snapshot.
//
// A selector leaves any of the three unset ("any"); the most specific match
// wins, ranked by port, then VLAN, then VNI. Only the specificity patterns
// some selector uses are probed, so typical setups cost one hash lookup.
#ifndef GROD_DATAPLANE_TENANT_CLASSIFIER_H_
#define GROD_DATAPLANE_TENANT_CLASSIFIER_H_

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "common/dataplane_types.h"

namespace grod::dataplane {

class Classifier {
 public:
  static constexpr int kNoTenant = -1;

  // Fails with FAILED_PRECONDITION if an identical selector is already
  // taken by another slot.
  absl::Status Add(const TrafficSelector& selector, uint16_t slot);

  // vni < 0: the packet is not VXLAN.
  int Match(uint16_t port, uint16_t vlan, int64_t vni) const {
    if (used_patterns_ == 0) return kNoTenant;
    for (int pattern = 7; pattern >= 0; --pattern) {
      if (!(used_patterns_ & (1u << pattern))) continue;
      auto it = slots_.find(Key(pattern, port, vlan, vni));
      if (it != slots_.end()) return it->second;
    }
    return kNoTenant;
  }

  bool empty() const { return slots_.empty(); }

  // Whether a packet's VLAN or VNI can change its match on `port`: some
  // selector names a VLAN or a VNI and that port (or any port).  If not,
  // Match(port, any, any) is the same for every packet of the port.
  bool HeadersMatterOn(uint16_t port) const {
    return header_selector_any_port_ || header_selector_ports_.contains(port);
  }

 private:
  // Pattern bits: 4 = port given, 2 = VLAN given, 1 = VNI given.
  static uint64_t Key(int pattern, uint16_t port, uint16_t vlan, int64_t vni) {
    const uint64_t p = (pattern & 4) ? port : 0xffff;
    const uint64_t v = (pattern & 2) ? vlan : 0xffff;
    // 2^24 marks "not VXLAN"; 2^24+1 marks "any".
    const uint64_t n =
        (pattern & 1) ? (vni < 0 ? (1u << 24) : uint64_t(vni)) : (1u << 24) + 1;
    return (p << 48) | (v << 32) | n;
  }

  absl::flat_hash_map<uint64_t, uint16_t> slots_;
  uint8_t used_patterns_ = 0;
  // Ports named by selectors that also name a VLAN or VNI; or such a
  // selector with no port.
  absl::flat_hash_set<uint16_t> header_selector_ports_;
  bool header_selector_any_port_ = false;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_TENANT_CLASSIFIER_H_
