// One tenant's route hints: destination prefix -> GRO mode, longest prefix
// wins, on DPDK's rte_fib (IPv4) and rte_fib6 (IPv6).
//
// Tables are sized by need, per family: no hints, no table; otherwise a
// RIB-backed FIB (RTE_FIB_DUMMY / RTE_FIB6_DUMMY: a few hundred bytes per
// hint, a tree walk per lookup). Past kSmallMaxHints IPv4 hints the table
// becomes DIR-24-8 (one or two memory reads per lookup, ~40 MB). IPv6 stays
// RIB-backed: DPDK's trie needs up to 13 tbl8 groups per prefix, so 100 000
// IPv6 hints would need hundreds of MB per table. So hundreds of tenants
// with a few hints fit in a small DPDK heap, and a tenant with 100 000 hints
// of either family still fits.
//
// Not safe for concurrent writers. Workers read a table only while it is
// published in a snapshot; the TenantManager writes only tables no snapshot
// publishes (double buffering), so lookups never race with updates.
#ifndef GROD_DATAPLANE_TENANT_ROUTE_TABLE_H_
#define GROD_DATAPLANE_TENANT_ROUTE_TABLE_H_

#include <rte_fib.h>
#include <rte_fib6.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "common/dataplane_types.h"

namespace grod::dataplane {

using HintMap = std::map<IpPrefix, GroMode>;

class RouteTable {
 public:
  // No hint matched: use the tenant's default mode.
  static constexpr uint8_t kNoHint = 0;
  static constexpr uint32_t kSmallMaxHints = 4096;
  static constexpr uint32_t kMaxHintsPerFamily = 1 << 20;

  explicit RouteTable(std::string name) : name_(std::move(name)) {}
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Replaces the whole content with `hints`, (re)creating each family's
  // FIB with room to grow.
  absl::Status Build(const HintMap& hints);
  // True if `v4` IPv4 and `v6` IPv6 hints fit without a Build().
  bool Fits(size_t v4, size_t v6) const { return v4_.Fits(v4) && v6_.Fits(v6); }
  // Incremental changes (callers check Fits() first). Add replaces the mode
  // of an existing prefix.
  absl::Status Add(const RouteHint& hint);
  absl::Status Remove(const IpPrefix& prefix);

  // GroMode value of the longest matching prefix, or kNoHint. `dst` is the
  // address in network byte order (4 or 16 bytes).
  uint8_t Lookup4(const uint8_t* dst) const {
    if (v4_.fib == nullptr) return kNoHint;
    uint32_t ip =
        (uint32_t{dst[0]} << 24) | (dst[1] << 16) | (dst[2] << 8) | dst[3];
    uint64_t nh = kNoHint;
    rte_fib_lookup_bulk(static_cast<rte_fib*>(v4_.fib), &ip, &nh, 1);
    return static_cast<uint8_t>(nh);
  }
  uint8_t Lookup6(const uint8_t* dst) const {
    if (v6_.fib == nullptr) return kNoHint;
    uint8_t ip[1][RTE_FIB6_IPV6_ADDR_SIZE];
    memcpy(ip[0], dst, RTE_FIB6_IPV6_ADDR_SIZE);
    uint64_t nh = kNoHint;
    rte_fib6_lookup_bulk(static_cast<rte_fib6*>(v6_.fib), ip, &nh, 1);
    return static_cast<uint8_t>(nh);
  }

 private:
  struct Family {
    void* fib = nullptr;    // rte_fib* or rte_fib6*
    uint32_t capacity = 0;  // routes the FIB was created for
    bool large = false;     // DIR-24-8 / trie rather than RIB-only
    uint32_t small_limit = kSmallMaxHints;  // past it: rebuild as large
    bool Fits(size_t n) const {
      return n == 0 ||
             (fib != nullptr && n <= capacity && (large || n <= small_limit));
    }
  };
  absl::Status Create(bool v6, size_t hints);
  void Free(bool v6);

  const std::string name_;
  Family v4_, v6_;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_TENANT_ROUTE_TABLE_H_
