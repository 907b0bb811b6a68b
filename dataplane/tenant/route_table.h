// One tenant's route hints: destination prefix -> GRO mode, longest prefix
// wins. IPv4 uses DPDK's rte_fib (DIR-24-8, 2-byte next hops: 40 MB) and
// IPv6 rte_fib6 (trie, about the same); each is created on the first hint of
// its family, so tenants without hints cost no memory.
//
// Not safe for concurrent writers. Workers read a table only while it is
// published in a snapshot; the TenantManager writes only tables no snapshot
// publishes (double buffering), so lookups never race with updates.
#ifndef GROD_DATAPLANE_TENANT_ROUTE_TABLE_H_
#define GROD_DATAPLANE_TENANT_ROUTE_TABLE_H_

#include <rte_fib.h>
#include <rte_fib6.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/dataplane_types.h"

namespace grod::dataplane {

class RouteTable {
 public:
  // No hint matched: use the tenant's default mode.
  static constexpr uint8_t kNoHint = 0;
  static constexpr uint32_t kMaxHintsPerFamily = 1 << 17;  // 131072

  explicit RouteTable(std::string name) : name_(std::move(name)) {}
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Adds or replaces the prefix's mode.
  absl::Status Add(const RouteHint& hint);
  absl::Status Remove(const IpPrefix& prefix);
  void Clear();

  // GroMode value of the longest matching prefix, or kNoHint. `dst` is the
  // address in network byte order (4 or 16 bytes).
  uint8_t Lookup4(const uint8_t* dst) const {
    if (fib4_ == nullptr) return kNoHint;
    uint32_t ip =
        (uint32_t{dst[0]} << 24) | (dst[1] << 16) | (dst[2] << 8) | dst[3];
    uint64_t nh = kNoHint;
    rte_fib_lookup_bulk(fib4_, &ip, &nh, 1);
    return static_cast<uint8_t>(nh);
  }
  uint8_t Lookup6(const uint8_t* dst) const {
    if (fib6_ == nullptr) return kNoHint;
    uint8_t ip[1][RTE_FIB6_IPV6_ADDR_SIZE];
    memcpy(ip[0], dst, RTE_FIB6_IPV6_ADDR_SIZE);
    uint64_t nh = kNoHint;
    rte_fib6_lookup_bulk(fib6_, ip, &nh, 1);
    return static_cast<uint8_t>(nh);
  }

 private:
  absl::Status EnsureFib(bool v6);

  const std::string name_;
  rte_fib* fib4_ = nullptr;
  rte_fib6* fib6_ = nullptr;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_TENANT_ROUTE_TABLE_H_
