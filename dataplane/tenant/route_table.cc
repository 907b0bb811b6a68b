#include "dataplane/tenant/route_table.h"

#include <rte_errno.h>
#include <rte_memory.h>

#include "absl/strings/str_cat.h"

namespace grod::dataplane {
namespace {

// A /25../32 (v4) or any prefix past the trie's first levels needs a tbl8
// group (512 bytes with 2-byte next hops); 8192 groups cover that many such
// hints in distinct /24s. 1-byte next hops would halve tbl24 but allow only
// 127 groups, too few for host routes.
constexpr uint32_t kTbl8Groups = 1 << 13;

uint32_t V4(const IpPrefix& p) {
  return (uint32_t{p.addr[0]} << 24) | (p.addr[1] << 16) | (p.addr[2] << 8) |
         p.addr[3];
}

absl::Status FibError(const std::string& what, int rc) {
  if (rc == -ENOSPC) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": route table is full (too many long prefixes)"));
  }
  return absl::InternalError(absl::StrCat(what, ": ", rte_strerror(-rc)));
}

}  // namespace

RouteTable::~RouteTable() {
  if (fib4_ != nullptr) rte_fib_free(fib4_);
  if (fib6_ != nullptr) rte_fib6_free(fib6_);
}

absl::Status RouteTable::EnsureFib(bool v6) {
  if (!v6 && fib4_ == nullptr) {
    rte_fib_conf conf{};
    conf.type = RTE_FIB_DIR24_8;
    conf.default_nh = kNoHint;
    conf.max_routes = kMaxHintsPerFamily;
    conf.dir24_8.nh_sz = RTE_FIB_DIR24_8_2B;
    conf.dir24_8.num_tbl8 = kTbl8Groups;
    fib4_ = rte_fib_create((name_ + "4").c_str(), SOCKET_ID_ANY, &conf);
    if (fib4_ == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot create IPv4 route table (", rte_strerror(rte_errno),
          "): give DPDK more memory (-m or hugepages)"));
    }
  }
  if (v6 && fib6_ == nullptr) {
    rte_fib6_conf conf{};
    conf.type = RTE_FIB6_TRIE;
    conf.default_nh = kNoHint;
    conf.max_routes = kMaxHintsPerFamily;
    conf.trie.nh_sz = RTE_FIB6_TRIE_2B;
    conf.trie.num_tbl8 = kTbl8Groups;
    fib6_ = rte_fib6_create((name_ + "6").c_str(), SOCKET_ID_ANY, &conf);
    if (fib6_ == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot create IPv6 route table (", rte_strerror(rte_errno),
          "): give DPDK more memory (-m or hugepages)"));
    }
  }
  return absl::OkStatus();
}

absl::Status RouteTable::Add(const RouteHint& hint) {
  const IpPrefix& p = hint.prefix;
  if (absl::Status s = EnsureFib(p.is_v6); !s.ok()) return s;
  const uint64_t nh = static_cast<uint8_t>(hint.mode);
  // rte_fib_add replaces the next hop of an existing prefix.
  const int rc = p.is_v6 ? rte_fib6_add(fib6_, p.addr.data(), p.length, nh)
                         : rte_fib_add(fib4_, V4(p), p.length, nh);
  return rc == 0 ? absl::OkStatus() : FibError("adding a route hint", rc);
}

absl::Status RouteTable::Remove(const IpPrefix& p) {
  rte_fib* f4 = fib4_;
  rte_fib6* f6 = fib6_;
  if ((p.is_v6 && f6 == nullptr) || (!p.is_v6 && f4 == nullptr)) {
    return absl::NotFoundError("no such route hint");
  }
  const int rc = p.is_v6 ? rte_fib6_delete(f6, p.addr.data(), p.length)
                         : rte_fib_delete(f4, V4(p), p.length);
  return rc == 0 ? absl::OkStatus() : FibError("removing a route hint", rc);
}

void RouteTable::Clear() {
  if (fib4_ != nullptr) rte_fib_free(fib4_);
  if (fib6_ != nullptr) rte_fib6_free(fib6_);
  fib4_ = nullptr;
  fib6_ = nullptr;
}

}  // namespace grod::dataplane
