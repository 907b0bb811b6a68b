#include "common/testing/fake_dataplane.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace grod::testing {

namespace {

PortInfo MakePort(uint16_t id, uint16_t peer, const char* mac) {
  PortInfo p;
  p.port_id = id;
  p.name = absl::StrCat("net_fake", id);
  p.driver = "net_fake";
  p.mac_address = mac;
  p.rx_queues = 1;
  p.tx_queues = 1;
  p.capabilities.tcp_tso = true;
  p.capabilities.ipv4_checksum = true;
  p.capabilities.tcp_checksum = true;
  p.capabilities.udp_checksum = true;
  p.capabilities.multi_segment_tx = true;
  // Port 1 differs so tests can tell capabilities apart per port.
  p.capabilities.udp_tso = id == 0;
  p.capabilities.vxlan_tso = false;
  p.peer_port_id = peer;
  p.link_up = true;
  p.link_speed_mbps = 10000;
  p.mtu = 1500;
  return p;
}

}  // namespace

FakeDataPlane::FakeDataPlane() {
  info_.dpdk_version = "DPDK 22.11.0-fake";
  info_.main_lcore = 0;
  info_.worker_lcores = {1};
  ports_ = {MakePort(0, 1, "02:00:00:00:00:00"),
            MakePort(1, 0, "02:00:00:00:00:01")};
}

bool FakeDataPlane::Ready() const {
  absl::MutexLock l(&mu_);
  return ready_;
}

DataPlaneInfo FakeDataPlane::Info() const {
  absl::MutexLock l(&mu_);
  return info_;
}

std::vector<PortInfo> FakeDataPlane::Ports() const {
  absl::MutexLock l(&mu_);
  return ports_;
}

MbufBudget FakeDataPlane::Mbufs() const {
  absl::MutexLock l(&mu_);
  return mbufs_;
}

void FakeDataPlane::SetMbufs(MbufBudget budget) {
  absl::MutexLock l(&mu_);
  mbufs_ = budget;
}

absl::Status FakeDataPlane::TakeFailure(const std::string& method) {
  if (!sticky_failure_.ok()) return sticky_failure_;
  if (next_failure_.has_value() &&
      (next_failure_method_.empty() || next_failure_method_ == method)) {
    absl::Status s = *next_failure_;
    next_failure_.reset();
    next_failure_method_.clear();
    return s;
  }
  return absl::OkStatus();
}

void FakeDataPlane::Log(std::string entry, const absl::Status& status) {
  if (!status.ok())
    absl::StrAppend(&entry, " FAILED");
  else
    ++mutations_;
  calls_.push_back(std::move(entry));
}

absl::Status FakeDataPlane::UpsertTenant(const TenantSpec& spec) {
  absl::MutexLock l(&mu_);
  absl::Status s = TakeFailure("UpsertTenant");
  if (s.ok() && spec.name.empty()) {
    s = absl::InvalidArgumentError("empty tenant name");
  }
  if (s.ok()) {
    tenants_[spec.name] = spec;
    hints_[spec.name];  // Hints survive a replace; create the entry if new.
  }
  Log(absl::StrCat("UpsertTenant(", spec.name, ")"), s);
  return s;
}

absl::Status FakeDataPlane::RemoveTenant(const std::string& name) {
  absl::MutexLock l(&mu_);
  absl::Status s = TakeFailure("RemoveTenant");
  if (s.ok() && !tenants_.contains(name)) {
    s = absl::NotFoundError(absl::StrCat("no tenant ", name));
  }
  if (s.ok()) {
    tenants_.erase(name);
    hints_.erase(name);
    // Like the real data plane: traffic of a removed unmatched tenant
    // bypasses GRO.
    if (unmatched_ == name) unmatched_.clear();
  }
  Log(absl::StrCat("RemoveTenant(", name, ")"), s);
  return s;
}

absl::Status FakeDataPlane::AddRouteHints(const std::string& tenant,
                                          const std::vector<RouteHint>& hints) {
  absl::MutexLock l(&mu_);
  absl::Status s = TakeFailure("AddRouteHints");
  if (s.ok() && !tenants_.contains(tenant)) {
    s = absl::NotFoundError(absl::StrCat("no tenant ", tenant));
  }
  if (s.ok()) {
    auto& m = hints_[tenant];
    for (const RouteHint& h : hints) m[h.prefix] = h.mode;
  }
  Log(absl::StrCat("AddRouteHints(", tenant, ",", hints.size(), ")"), s);
  return s;
}

absl::Status FakeDataPlane::RemoveRouteHints(
    const std::string& tenant, const std::vector<IpPrefix>& prefixes) {
  absl::MutexLock l(&mu_);
  absl::Status s = TakeFailure("RemoveRouteHints");
  if (s.ok() && !tenants_.contains(tenant)) {
    s = absl::NotFoundError(absl::StrCat("no tenant ", tenant));
  }
  if (s.ok()) {
    auto& m = hints_[tenant];
    for (const IpPrefix& p : prefixes) m.erase(p);
  }
  Log(absl::StrCat("RemoveRouteHints(", tenant, ",", prefixes.size(), ")"), s);
  return s;
}

absl::Status FakeDataPlane::SetUnmatchedTenant(const std::string& tenant) {
  absl::MutexLock l(&mu_);
  absl::Status s = TakeFailure("SetUnmatchedTenant");
  if (s.ok() && !tenant.empty() && !tenants_.contains(tenant)) {
    s = absl::NotFoundError(absl::StrCat("no tenant ", tenant));
  }
  if (s.ok()) unmatched_ = tenant;
  Log(absl::StrCat("SetUnmatchedTenant(", tenant, ")"), s);
  return s;
}

StatsSnapshot FakeDataPlane::Stats() const {
  absl::MutexLock l(&mu_);
  if (stats_.has_value()) return *stats_;
  StatsSnapshot snap;
  for (const auto& [name, spec] : tenants_) {
    TenantCounters c;
    c.tenant = name;
    snap.tenants.push_back(std::move(c));
  }
  for (const PortInfo& p : ports_) {
    PortCounters c;
    c.port_id = p.port_id;
    c.name = p.name;
    snap.ports.push_back(std::move(c));
  }
  for (uint32_t lcore : info_.worker_lcores) {
    snap.workers.push_back(WorkerCounters{.lcore = lcore});
  }
  snap.config_generation = mutations_;
  return snap;
}

void FakeDataPlane::SetReady(bool ready) {
  absl::MutexLock l(&mu_);
  ready_ = ready;
}

void FakeDataPlane::SetPorts(std::vector<PortInfo> ports) {
  absl::MutexLock l(&mu_);
  ports_ = std::move(ports);
}

void FakeDataPlane::SetInfo(DataPlaneInfo info) {
  absl::MutexLock l(&mu_);
  info_ = std::move(info);
}

void FakeDataPlane::SetStats(StatsSnapshot stats) {
  absl::MutexLock l(&mu_);
  stats_ = std::move(stats);
}

void FakeDataPlane::ClearStats() {
  absl::MutexLock l(&mu_);
  stats_.reset();
}

void FakeDataPlane::FailNextMutation(absl::Status status, std::string method) {
  absl::MutexLock l(&mu_);
  next_failure_ = std::move(status);
  next_failure_method_ = std::move(method);
}

void FakeDataPlane::FailAllMutations(absl::Status status) {
  absl::MutexLock l(&mu_);
  sticky_failure_ = std::move(status);
}

std::map<std::string, TenantSpec> FakeDataPlane::tenants() const {
  absl::MutexLock l(&mu_);
  return tenants_;
}

std::optional<TenantSpec> FakeDataPlane::tenant(const std::string& name) const {
  absl::MutexLock l(&mu_);
  auto it = tenants_.find(name);
  if (it == tenants_.end()) return std::nullopt;
  return it->second;
}

std::map<IpPrefix, GroMode> FakeDataPlane::hints(
    const std::string& tenant) const {
  absl::MutexLock l(&mu_);
  auto it = hints_.find(tenant);
  if (it == hints_.end()) return {};
  return it->second;
}

std::string FakeDataPlane::unmatched_tenant() const {
  absl::MutexLock l(&mu_);
  return unmatched_;
}

std::vector<std::string> FakeDataPlane::calls() const {
  absl::MutexLock l(&mu_);
  return calls_;
}

void FakeDataPlane::ClearCalls() {
  absl::MutexLock l(&mu_);
  calls_.clear();
}

int FakeDataPlane::mutation_count() const {
  absl::MutexLock l(&mu_);
  return mutations_;
}

}  // namespace grod::testing
