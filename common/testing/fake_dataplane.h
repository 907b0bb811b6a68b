// An in-memory grod::DataPlane for tests.
//
// It keeps exactly what a real data plane would be told (tenants, hints,
// unmatched tenant) so tests can assert on the data plane's view, and lets a
// test inject a failure into the next mutating call to check that a failed
// call changes nothing anywhere. Thread-safe: control-plane tests call it
// from many gRPC threads at once.
#ifndef GROD_COMMON_TESTING_FAKE_DATAPLANE_H_
#define GROD_COMMON_TESTING_FAKE_DATAPLANE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/dataplane.h"

namespace grod::testing {

class FakeDataPlane : public DataPlane {
 public:
  // Starts ready, with two paired ports (0 <-> 1) and one worker lcore.
  FakeDataPlane();

  // --- grod::DataPlane ---
  bool Ready() const override;
  DataPlaneInfo Info() const override;
  std::vector<PortInfo> Ports() const override;
  MbufBudget Mbufs() const override;
  absl::Status UpsertTenant(const TenantSpec& spec) override;
  absl::Status RemoveTenant(const std::string& name) override;
  absl::Status AddRouteHints(const std::string& tenant,
                             const std::vector<RouteHint>& hints) override;
  absl::Status RemoveRouteHints(const std::string& tenant,
                                const std::vector<IpPrefix>& prefixes) override;
  absl::Status SetUnmatchedTenant(const std::string& tenant) override;
  StatsSnapshot Stats() const override;

  // --- Test controls ---
  void SetReady(bool ready);
  void SetPorts(std::vector<PortInfo> ports);
  void SetInfo(DataPlaneInfo info);
  // The default budget admits kMaxTenants tenants at the default quota, so
  // tests that are not about admission never hit it.
  void SetMbufs(MbufBudget budget);
  // Stats() returns this instead of the generated all-zero snapshot
  // (one TenantCounters per current tenant).
  void SetStats(StatsSnapshot stats);
  void ClearStats();
  // The next mutating call (optionally only one of the named method, e.g.
  // "AddRouteHints") returns `status` and changes nothing. One-shot.
  void FailNextMutation(absl::Status status, std::string method = "");
  // Every mutating call fails with `status` until cleared with OkStatus().
  void FailAllMutations(absl::Status status);

  // --- Inspection ---
  std::map<std::string, TenantSpec> tenants() const;
  std::optional<TenantSpec> tenant(const std::string& name) const;
  // Hints of one tenant (empty if unknown).
  std::map<IpPrefix, GroMode> hints(const std::string& tenant) const;
  std::string unmatched_tenant() const;
  // One entry per call, mutating or not: "UpsertTenant(t1)",
  // "AddRouteHints(t1,3)", "RemoveRouteHints(t1,2)", "RemoveTenant(t1)",
  // "SetUnmatchedTenant(t1)". Failed calls are logged with a " FAILED" suffix.
  std::vector<std::string> calls() const;
  void ClearCalls();
  // Successful mutating calls so far.
  int mutation_count() const;

 private:
  // Returns the injected failure for `method`, if any, consuming a one-shot.
  absl::Status TakeFailure(const std::string& method)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Log(std::string entry, const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = true;
  DataPlaneInfo info_ ABSL_GUARDED_BY(mu_);
  std::vector<PortInfo> ports_ ABSL_GUARDED_BY(mu_);
  MbufBudget mbufs_ ABSL_GUARDED_BY(mu_) = {
      .pool_size = 1u << 24, .reserve = 4096, .worker_lcores = 1};
  std::optional<StatsSnapshot> stats_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, TenantSpec> tenants_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<IpPrefix, GroMode>> hints_
      ABSL_GUARDED_BY(mu_);
  std::string unmatched_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
  int mutations_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Status> next_failure_ ABSL_GUARDED_BY(mu_);
  std::string next_failure_method_ ABSL_GUARDED_BY(mu_);
  absl::Status sticky_failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace grod::testing

#endif  // GROD_COMMON_TESTING_FAKE_DATAPLANE_H_
