#include "dataplane/tenant/route_table.h"

#include <rte_errno.h>
#include <rte_memory.h>

#include <bit>

#include "absl/strings/str_cat.h"

namespace grod::dataplane {
namespace {

// A /25../32 (v4) or a prefix past the trie's first level (v6) needs a tbl8
// group of 512 bytes (2-byte next hops); 8192 groups cover that many such
// hints in distinct /24s.
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
  Free(false);
  Free(true);
}

void RouteTable::Free(bool v6) {
  Family& f = v6 ? v6_ : v4_;
  if (f.fib != nullptr) {
    if (v6) {
      rte_fib6_free(static_cast<rte_fib6*>(f.fib));
    } else {
      rte_fib_free(static_cast<rte_fib*>(f.fib));
    }
  }
  f = Family{};
}

absl::Status RouteTable::Create(bool v6, size_t hints) {
  Free(v6);
  if (hints == 0) return absl::OkStatus();
  if (hints > kMaxHintsPerFamily) {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", kMaxHintsPerFamily,
                     " route hints per "
                     "address family and tenant"));
  }
  Family& f = v6 ? v6_ : v4_;
  f.small_limit = v6 ? kMaxHintsPerFamily : kSmallMaxHints;
  f.large = hints > f.small_limit;
  // Room to grow before the next rebuild; small tables stay small.
  f.capacity = std::bit_ceil(std::max<uint32_t>(64, 2 * hints));
  if (!f.large) f.capacity = std::min(f.capacity, 2 * f.small_limit);
  f.capacity = std::min(f.capacity, kMaxHintsPerFamily);
  const std::string name = name_ + (v6 ? "6" : "4");
  if (!v6) {
    rte_fib_conf conf{};
    conf.type = f.large ? RTE_FIB_DIR24_8 : RTE_FIB_DUMMY;
    conf.default_nh = kNoHint;
    conf.max_routes = f.capacity;
    conf.dir24_8.nh_sz = RTE_FIB_DIR24_8_2B;
    conf.dir24_8.num_tbl8 = kTbl8Groups;
    f.fib = rte_fib_create(name.c_str(), SOCKET_ID_ANY, &conf);
  } else {
    rte_fib6_conf conf{};
    conf.type = f.large ? RTE_FIB6_TRIE : RTE_FIB6_DUMMY;
    conf.default_nh = kNoHint;
    conf.max_routes = f.capacity;
    conf.trie.nh_sz = RTE_FIB6_TRIE_2B;
    conf.trie.num_tbl8 = kTbl8Groups;
    f.fib = rte_fib6_create(name.c_str(), SOCKET_ID_ANY, &conf);
  }
  if (f.fib == nullptr) {
    const int err = rte_errno;
    f = Family{};
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot create an IPv", v6 ? 6 : 4, " route table for ", hints,
        " hints (", rte_strerror(err),
        "): give DPDK more memory (-m, or hugepages) or use fewer hints"));
  }
  return absl::OkStatus();
}

absl::Status RouteTable::Build(const HintMap& hints) {
  size_t v4 = 0, v6 = 0;
  for (const auto& [prefix, mode] : hints) ++(prefix.is_v6 ? v6 : v4);
  if (absl::Status s = Create(false, v4); !s.ok()) return s;
  if (absl::Status s = Create(true, v6); !s.ok()) return s;
  for (const auto& [prefix, mode] : hints) {
    if (absl::Status s = Add({prefix, mode}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status RouteTable::Add(const RouteHint& hint) {
  const IpPrefix& p = hint.prefix;
  const Family& f = p.is_v6 ? v6_ : v4_;
  if (f.fib == nullptr) {
    return absl::FailedPreconditionError("route table not sized for the hint");
  }
  const uint64_t nh = static_cast<uint8_t>(hint.mode);
  // rte_fib_add replaces the next hop of an existing prefix.
  const int rc =
      p.is_v6 ? rte_fib6_add(static_cast<rte_fib6*>(f.fib), p.addr.data(),
                             p.length, nh)
              : rte_fib_add(static_cast<rte_fib*>(f.fib), V4(p), p.length, nh);
  return rc == 0 ? absl::OkStatus() : FibError("adding a route hint", rc);
}

absl::Status RouteTable::Remove(const IpPrefix& p) {
  const Family& f = p.is_v6 ? v6_ : v4_;
  if (f.fib == nullptr) return absl::NotFoundError("no such route hint");
  const int rc =
      p.is_v6 ? rte_fib6_delete(static_cast<rte_fib6*>(f.fib), p.addr.data(),
                                p.length)
              : rte_fib_delete(static_cast<rte_fib*>(f.fib), V4(p), p.length);
  return rc == 0 ? absl::OkStatus() : FibError("removing a route hint", rc);
}

}  // namespace grod::dataplane
