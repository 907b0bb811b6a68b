// TenantManager on its own: what it publishes (which tenants a change stamps
// for a flush, TenantRuntime::reclassified_epoch; flush timeouts in TSC
// cycles), and, through fake workers (WorkerHandle), what it asks workers to
// do and how it answers when they fail, stall or do not answer.
#include "dataplane/control/tenant_manager.h"

#include <rte_cycles.h>
#include <rte_malloc.h>

#include <map>
#include <set>

#include "dataplane/runtime/worker_handle.h"
#include "dataplane/testing/ring_port.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace grod::dataplane {
namespace {

// A worker lcore as the TenantManager sees it, without an lcore: it
// records what is posted and acknowledges at once unless told otherwise.
class FakeWorker : public WorkerHandle {
 public:
  explicit FakeWorker(unsigned lcore) : lcore_(lcore) {}

  unsigned lcore() const override { return lcore_; }
  uint64_t Post(const WorkerCommand& cmd) override {
    if (mailbox_full) return 0;
    posted.push_back(cmd);
    if (fail_creates && cmd.kind == WorkerCommand::Kind::kCreate) ++failed_;
    if (answer) done_ = posted.size();
    return posted.size();
  }
  uint64_t commands_done() const override { return done_; }
  uint64_t commands_failed() const override { return failed_; }
  bool stalled() const override { return stalled_; }
  void AddTenantCounters(uint16_t slot, TenantCounters* out) const override {
    out->packets_in += 100 + slot;
  }
  void AddUnmatchedCounters(TenantCounters* out) const override {
    out->packets_in += 7;
    out->bytes_in += 700;
  }

  // Kinds posted since the last call, in order.
  std::vector<WorkerCommand::Kind> TakeKinds() {
    std::vector<WorkerCommand::Kind> k;
    for (size_t i = seen_; i < posted.size(); ++i) k.push_back(posted[i].kind);
    seen_ = posted.size();
    return k;
  }

  std::vector<WorkerCommand> posted;
  bool mailbox_full = false;
  bool fail_creates = false;
  bool answer = true;
  bool stalled_ = false;

 private:
  const unsigned lcore_;
  uint64_t done_ = 0;
  uint64_t failed_ = 0;
  size_t seen_ = 0;
};

TrafficSelector Sel(std::optional<uint16_t> port, std::optional<uint16_t> vlan,
                    std::optional<uint32_t> vni = std::nullopt) {
  return {port, vlan, vni};
}

class TenantManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::InitTestEal();
    qsbr_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc("tm_test_qsbr", rte_rcu_qsbr_get_memsize(1), 64));
    ASSERT_NE(qsbr_, nullptr);
    ASSERT_EQ(rte_rcu_qsbr_init(qsbr_, 1), 0);
    mgr_ = std::make_unique<TenantManager>(qsbr_, 4789, true);
  }
  void TearDown() override {
    mgr_.reset();
    rte_free(qsbr_);
  }

  const ConfigSnapshot& Snap() const { return *mgr_->snapshot()->load(); }

  void Upsert(const std::string& name, std::vector<TrafficSelector> sels) {
    TenantSpec t;
    t.name = name;
    t.selectors = std::move(sels);
    ASSERT_TRUE(mgr_->Upsert(t).ok()) << name;
  }

  // Tenants a change stamped: run it, return who got the new epoch.
  template <typename F>
  std::set<std::string> Stamped(F change) {
    std::map<std::string, uint64_t> before;
    const std::map<std::string, int> slots = Slots();
    for (const auto& [name, slot] : slots) {
      before[name] = Snap().tenants[slot].reclassified_epoch;
    }
    change();
    std::set<std::string> out;
    for (const auto& [name, slot] : slots) {
      if (Snap().tenants[slot].reclassified_epoch != before[name]) {
        out.insert(name);
      }
    }
    return out;
  }

  // Tenant -> slot: slots are given in creation order from 0 (the first
  // free one), which these tests rely on.
  std::map<std::string, int> Slots() const {
    std::map<std::string, int> m;
    int i = 0;
    for (const std::string& n : order_) m[n] = i++;
    return m;
  }

  rte_rcu_qsbr* qsbr_ = nullptr;
  std::unique_ptr<TenantManager> mgr_;
  std::vector<std::string> order_;
};

TEST_F(TenantManagerTest, TimeoutsDoNotOverflowInTscCycles) {
  TenantSpec t;
  t.name = "slow";
  t.selectors = {Sel(0, std::nullopt)};
  t.flush.kind = FlushKind::kTimeout;
  t.flush.timeout_ns = 10'000'000'000;  // the API's maximum, 10 s
  ASSERT_TRUE(mgr_->Upsert(t).ok());
  const uint64_t hz = rte_get_tsc_hz();
  EXPECT_EQ(Snap().tenants[0].timeout_tsc, 10 * hz);
  t.flush.timeout_ns = 1500;  // 1.5 us
  ASSERT_TRUE(mgr_->Upsert(t).ok());
  EXPECT_EQ(Snap().tenants[0].timeout_tsc, hz * 1500 / 1'000'000'000);
}

// Every published snapshot says which ports' bursts may skip parsing
// (ConfigSnapshot::whole_port), following modes, hints and selectors.
TEST_F(TenantManagerTest, WholePortsFollowEveryChange) {
  EXPECT_EQ(Snap().whole_port[0], Classifier::kNoTenant) << "no tenant yet";
  TenantSpec t;
  t.name = "fwd";
  t.selectors = {Sel(0, std::nullopt)};
  t.default_mode = GroMode::kBypass;
  ASSERT_TRUE(mgr_->Upsert(t).ok());
  EXPECT_EQ(Snap().whole_port[0], 0);
  EXPECT_EQ(Snap().whole_port[1], Classifier::kNoTenant);

  IpPrefix p;
  p.addr[0] = 10;
  p.length = 8;
  ASSERT_TRUE(mgr_->AddHints("fwd", {{p, GroMode::kMerge}}).ok());
  EXPECT_EQ(Snap().whole_port[0], ConfigSnapshot::kPerPacket) << "hints";
  ASSERT_TRUE(mgr_->RemoveHints("fwd", {p}).ok());
  EXPECT_EQ(Snap().whole_port[0], 0);

  ASSERT_TRUE(mgr_->SetUnmatched("fwd").ok());
  EXPECT_EQ(Snap().whole_port[1], 0) << "unmatched BYPASS tenant";
  t.default_mode = GroMode::kMerge;
  ASSERT_TRUE(mgr_->Upsert(t).ok());
  EXPECT_EQ(Snap().whole_port[0], ConfigSnapshot::kPerPacket);
  EXPECT_EQ(Snap().whole_port[1], ConfigSnapshot::kPerPacket);

  t.default_mode = GroMode::kBypass;
  t.selectors = {Sel(0, 7)};
  ASSERT_TRUE(mgr_->Upsert(t).ok());
  EXPECT_EQ(Snap().whole_port[0], ConfigSnapshot::kPerPacket) << "VLAN";
  EXPECT_EQ(Snap().whole_port[1], 0);
  ASSERT_TRUE(mgr_->Remove("fwd").ok());
  EXPECT_EQ(Snap().whole_port[0], Classifier::kNoTenant);
}

TEST_F(TenantManagerTest, SelectorChangesStampOnlyTenantsThatMayLoseTraffic) {
  using S = std::set<std::string>;
  order_ = {"wide", "v10", "v20", "vxlan", "fallback"};
  Upsert("wide", {Sel(0, std::nullopt)});  // every VLAN on port 0
  Upsert("v10", {Sel(0, 10)});
  Upsert("v20", {Sel(std::nullopt, 20)});  // VLAN 20 on any port
  Upsert("vxlan", {Sel(std::nullopt, std::nullopt, 5000)});
  Upsert("fallback", {});
  ASSERT_TRUE(mgr_->SetUnmatched("fallback").ok());

  // v10 moves to VLAN 11: it loses VLAN 10 (to wide), wide loses VLAN 11,
  // and VNI 5000 tunnels on VLANs 10/11 of port 0 may have been vxlan's.
  EXPECT_EQ(Stamped([&] { Upsert("v10", {Sel(0, 11)}); }),
            (S{"v10", "wide", "vxlan"}));
  // VLAN 30 on port 1: only the unmatched tenant held that (no selector
  // of port 1 covers it), and vxlan's tunnels there; not wide (port 0).
  EXPECT_EQ(Stamped([&] {
              Upsert("v10", {Sel(0, 11), Sel(1, 30)});
            }),
            (S{"vxlan", "fallback"}));
  // Covered by "wide" (port 0, any VLAN): the unmatched tenant held none.
  EXPECT_EQ(Stamped([&] {
              Upsert("v10", {Sel(0, 11), Sel(1, 30), Sel(0, 40)});
            }),
            (S{"wide", "vxlan"}));
  // Policy and quota changes move nothing.
  EXPECT_EQ(Stamped([&] {
              TenantSpec t;
              t.name = "v20";
              t.selectors = {Sel(std::nullopt, 20)};
              t.flush.kind = FlushKind::kAdaptive;
              t.max_flows = 100;
              ASSERT_TRUE(mgr_->Upsert(t).ok());
            }),
            S{});
  // The unmatched tenant changes: only the old one loses traffic.
  EXPECT_EQ(Stamped([&] { ASSERT_TRUE(mgr_->SetUnmatched("").ok()); }),
            S{"fallback"});
  EXPECT_EQ(Stamped([&] { ASSERT_TRUE(mgr_->SetUnmatched("v20").ok()); }), S{});
  // Removing v20: itself, and the tenants its traffic may have overlapped
  // (wide on port 0 VLAN 20, vxlan's tunnels on VLAN 20).
  EXPECT_EQ(Stamped([&] { ASSERT_TRUE(mgr_->Remove("v20").ok()); }),
            (S{"v20", "wide", "vxlan"}));
}

using Kind = WorkerCommand::Kind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TenantManagerWorkersTest : public TenantManagerTest {
 protected:
  void SetUp() override {
    TenantManagerTest::SetUp();
    mgr_->AttachWorkers({&w1_, &w2_});
  }
  static TenantSpec Spec(const std::string& name, uint16_t vlan) {
    TenantSpec t;
    t.name = name;
    t.selectors = {Sel(0, vlan)};
    return t;
  }
  FakeWorker w1_{3}, w2_{5};
};

TEST_F(TenantManagerWorkersTest, NewTenantGetsAContextOnEveryWorker) {
  TenantSpec t = Spec("a", 10);
  t.max_flows = 300;
  t.max_held_packets = 900;
  t.flush.max_segments = 12;
  ASSERT_TRUE(mgr_->Upsert(t).ok());
  for (FakeWorker* w : {&w1_, &w2_}) {
    ASSERT_EQ(w->posted.size(), 1u);
    const WorkerCommand& c = w->posted[0];
    EXPECT_EQ(c.kind, Kind::kCreate);
    EXPECT_EQ(c.slot, 0);
    EXPECT_EQ(c.config.max_flows, 300u);
    EXPECT_EQ(c.config.max_held_packets, 900u);
    EXPECT_EQ(c.config.max_segments, 12u);
    EXPECT_EQ(c.config.vxlan_port, 4789);
    EXPECT_TRUE(c.config.verify_checksums);
  }
  EXPECT_TRUE(Snap().tenants[0].active);
}

// A change of selectors (or of the flush policy) moves traffic but leaves
// the GRO context as it is: rebuilding it would flush every held flow of
// the tenant for nothing. Only a change of what the context is built from
// (quotas, GRO types, size limits) replaces it.
TEST_F(TenantManagerWorkersTest, OnlyContextChangesReplaceTheContext) {
  ASSERT_TRUE(mgr_->Upsert(Spec("a", 10)).ok());
  w1_.TakeKinds();
  TenantSpec moved = Spec("a", 11);
  moved.selectors.push_back(Sel(1, 30));
  moved.flush.kind = FlushKind::kAdaptive;
  for (int i = 0; i < 20; ++i) {
    moved.selectors[1].vlan_id = 30 + i % 2;
    ASSERT_TRUE(mgr_->Upsert(moved).ok());
  }
  EXPECT_THAT(w1_.TakeKinds(), ElementsAre());
  moved.max_flows = 77;
  ASSERT_TRUE(mgr_->Upsert(moved).ok());
  EXPECT_THAT(w1_.TakeKinds(), ElementsAre(Kind::kReplace));
  EXPECT_EQ(w1_.posted.back().config.max_flows, 77u);
}

TEST_F(TenantManagerWorkersTest, StalledWorkerRefusesChangesAndChangesNothing) {
  ASSERT_TRUE(mgr_->Upsert(Spec("a", 10)).ok());
  const uint64_t generation = mgr_->generation();
  w2_.stalled_ = true;
  absl::Status s = mgr_->Upsert(Spec("b", 20));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("worker lcore 5"));
  EXPECT_EQ(mgr_->Remove("a").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(mgr_->generation(), generation);
  EXPECT_EQ(w1_.posted.size(), 1u);  // the first create only
  EXPECT_TRUE(Snap().tenants[0].active);
  EXPECT_FALSE(Snap().tenants[1].active);
  w2_.stalled_ = false;
  EXPECT_TRUE(mgr_->Upsert(Spec("b", 20)).ok());
}

TEST_F(TenantManagerWorkersTest, WorkerThatStallsWhileAnsweringFailsTheChange) {
  // Alive when the change starts; takes the command, never acknowledges it,
  // and the liveness monitor then marks it stalled.
  struct StallOnPost : FakeWorker {
    using FakeWorker::FakeWorker;
    uint64_t Post(const WorkerCommand& c) override {
      stalled_ = true;
      answer = false;
      return FakeWorker::Post(c);
    }
  } stalling(9);
  mgr_->AttachWorkers({&w1_, &stalling});
  absl::Status s = mgr_->Upsert(Spec("a", 10));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("worker lcore 9"));
  EXPECT_FALSE(Snap().tenants[0].active);
}

TEST_F(TenantManagerWorkersTest, FailedCreateIsUndoneEverywhere) {
  w2_.fail_creates = true;
  absl::Status s = mgr_->Upsert(Spec("a", 10));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(w1_.TakeKinds(), ElementsAre(Kind::kCreate, Kind::kDestroy));
  EXPECT_THAT(w2_.TakeKinds(), ElementsAre(Kind::kCreate, Kind::kDestroy));
  EXPECT_FALSE(Snap().tenants[0].active);
  StatsSnapshot stats;
  mgr_->AddStats(&stats);
  ASSERT_EQ(stats.tenants.size(), 1u);  // "_unmatched" only
  EXPECT_EQ(stats.tenants[0].tenant, "_unmatched");
}

TEST_F(TenantManagerWorkersTest, FullMailboxFailsTheChange) {
  w1_.mailbox_full = true;
  absl::Status s = mgr_->Upsert(Spec("a", 10));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("worker lcore 3"));
  EXPECT_FALSE(Snap().tenants[0].active);
}

TEST_F(TenantManagerWorkersTest, RemoveUnpublishesThenDestroysOnEveryWorker) {
  ASSERT_TRUE(mgr_->Upsert(Spec("a", 10)).ok());
  w1_.TakeKinds();
  w2_.TakeKinds();
  ASSERT_TRUE(mgr_->Remove("a").ok());
  EXPECT_THAT(w1_.TakeKinds(), ElementsAre(Kind::kDestroy));
  EXPECT_THAT(w2_.TakeKinds(), ElementsAre(Kind::kDestroy));
  EXPECT_FALSE(Snap().tenants[0].active);
  EXPECT_EQ(mgr_->Remove("a").code(), absl::StatusCode::kNotFound);
}

TEST_F(TenantManagerWorkersTest, StatsAreSummedOverWorkers) {
  ASSERT_TRUE(mgr_->Upsert(Spec("a", 10)).ok());
  ASSERT_TRUE(mgr_->Upsert(Spec("b", 20)).ok());
  StatsSnapshot stats;
  mgr_->AddStats(&stats);
  std::map<std::string, TenantCounters> by_name;
  for (const TenantCounters& c : stats.tenants) by_name[c.tenant] = c;
  ASSERT_EQ(by_name.size(), 3u);
  EXPECT_EQ(by_name["a"].packets_in, 2u * 100);  // slot 0 on two workers
  EXPECT_EQ(by_name["b"].packets_in, 2u * 101);  // slot 1
  EXPECT_EQ(by_name["_unmatched"].packets_in, 14u);
  EXPECT_EQ(by_name["_unmatched"].bytes_in, 1400u);
  EXPECT_EQ(by_name["_unmatched"].bypass_packets, 14u);
  EXPECT_EQ(stats.config_generation, mgr_->generation());
}

}  // namespace
}  // namespace grod::dataplane
