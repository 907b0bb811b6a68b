// Many clients at once: mixed calls from several threads; afterwards the
// API's view, the data plane's view and the state file agree, and the
// generation counts exactly the successful changes.
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "controlplane/controller.h"
#include "controlplane/prefix.h"
#include "controlplane/service_test_util.h"

namespace grod::controlplane {
namespace {

TEST_F(ServiceTest, ConcurrentMixedCallsStayConsistent) {
  Create("shared", 1);
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::atomic<int> changes{1};  // the Create above
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      auto stub = server_->Stub();  // own channel per client
      const std::string mine = absl::StrCat("w", w);
      for (int i = 0; i < kRounds; ++i) {
        v1::CreateTenantRequest create;
        *create.mutable_tenant() = MakeTenant(mine, 100 + w);
        v1::Tenant t;
        if (stub->CreateTenant(Ctx().get(), create, &t).ok()) ++changes;

        v1::AddRouteHintsRequest add;
        add.set_tenant(i % 2 ? "shared" : mine);
        add.add_hints()->set_prefix(absl::StrCat("10.", w, ".", i, ".0/24"));
        add.mutable_hints(0)->set_mode(v1::GRO_MODE_LIST);
        v1::AddRouteHintsResponse added;
        if (stub->AddRouteHints(Ctx().get(), add, &added).ok()) ++changes;

        // Everyone fights over the same selector: exactly one may own it.
        v1::UpdateTenantRequest update;
        *update.mutable_tenant() = MakeTenant(mine, 4000);
        update.mutable_update_mask()->add_paths("selectors");
        if (stub->UpdateTenant(Ctx().get(), update, &t).ok()) ++changes;

        v1::ListTenantsResponse list;
        EXPECT_TRUE(stub->ListTenants(Ctx().get(), {}, &list).ok());
        v1::Stats stats;
        EXPECT_TRUE(stub->GetStats(Ctx().get(), {}, &stats).ok());

        if (i % 5 == 4) {
          v1::DeleteTenantRequest del;
          del.set_name(mine);
          google::protobuf::Empty e;
          if (stub->DeleteTenant(Ctx().get(), del, &e).ok()) ++changes;
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_EQ(server_->cp().config_generation(),
            static_cast<uint64_t>(changes.load()));
  // API view == data-plane view.
  v1::ListTenantsResponse list;
  ASSERT_TRUE(stub_->ListTenants(Ctx().get(), {}, &list).ok());
  const auto dp_tenants = server_->dp().tenants();
  ASSERT_EQ(static_cast<size_t>(list.tenants_size()), dp_tenants.size());
  int owners_of_4000 = 0;
  for (const v1::Tenant& t : list.tenants()) {
    ASSERT_TRUE(dp_tenants.contains(t.name()));
    EXPECT_EQ(t.route_hint_count(), server_->dp().hints(t.name()).size());
    for (const auto& s : t.selectors()) owners_of_4000 += s.vlan_id() == 4000;
  }
  EXPECT_LE(owners_of_4000, 1);
  EXPECT_EQ(server_->dp().hints("shared").size(),
            static_cast<size_t>(kThreads * kRounds / 2));

  // State file == API view.
  testing::FakeDataPlane dp2;
  Controller reopened(&dp2, state_file_, false);
  ASSERT_TRUE(reopened.Bootstrap({}).ok());
  EXPECT_EQ(reopened.generation(), server_->cp().config_generation());
  EXPECT_EQ(dp2.tenants(), dp_tenants);
  for (const auto& [name, spec] : dp_tenants) {
    EXPECT_EQ(dp2.hints(name), server_->dp().hints(name)) << name;
  }
}

}  // namespace
}  // namespace grod::controlplane
