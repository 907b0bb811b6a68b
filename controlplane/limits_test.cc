// Resource admission and caps through the real gRPC server (over a fake
// data plane): held-packet quotas against the mbuf pool, the number of
// tenants, route hints over all tenants, WatchStats streams per principal
// and in total, and the per-principal rate of mutating calls. Every refusal
// is RESOURCE_EXHAUSTED naming the numbers and changes nothing.
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/testing/wait_for.h"
#include "controlplane/api_limits.h"
#include "controlplane/service_test_util.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

class LimitsTest : public ServiceTest {
 protected:
  // A fresh server with these limits, credentials admin/acme/beta, and the
  // tenants acme and beta.
  void Restart(const v1::ApiLimits& limits) {
    server_.reset();
    const std::string creds =
        absl::StrCat(std::getenv("TEST_TMPDIR"), "/limits_credentials");
    std::ofstream(creds)
        << "admin:admin-secret-0123456789\nacme:acme-secret-0123456789\n"
           "beta:beta-secret-0123456789\n";
    chmod(creds.c_str(), 0600);
    std::remove(state_file_.c_str());
    ControlPlaneOptions opts;
    opts.state_file = state_file_;
    opts.security.set_credentials_file(creds);
    opts.limits = limits;
    server_ = std::make_unique<TestServer>(std::move(opts));
    stub_ = server_->Stub();
    admin_token_ = "admin-secret-0123456789";
    for (const char* name : {"acme", "beta"}) {
      v1::CreateTenantRequest req;
      *req.mutable_tenant() = MakeTenant(name, name[0]);
      v1::Tenant t;
      ASSERT_TRUE(stub_->CreateTenant(Ctx(admin_token_).get(), req, &t).ok());
    }
  }

  grpc::Status CreateWithQuota(const std::string& name, uint32_t vlan,
                               uint32_t held) {
    v1::CreateTenantRequest req;
    *req.mutable_tenant() = MakeTenant(name, vlan);
    req.mutable_tenant()->mutable_quotas()->set_max_held_packets(held);
    v1::Tenant out;
    return stub_->CreateTenant(Ctx(admin_token_).get(), req, &out);
  }

  grpc::Status SetQuota(const std::string& name, uint32_t held,
                        const std::string& token) {
    v1::UpdateTenantRequest req;
    req.mutable_tenant()->set_name(name);
    req.mutable_tenant()->mutable_quotas()->set_max_held_packets(held);
    req.mutable_update_mask()->add_paths("quotas.max_held_packets");
    v1::Tenant out;
    return stub_->UpdateTenant(Ctx(token).get(), req, &out);
  }
};

TEST_F(LimitsTest, HeldPacketQuotasAreAdmittedAgainstTheMbufPool) {
  // A pool of 16383 of which 4927 are the data plane's own: 11456 held
  // packets on the one worker lcore, 5728 each on two.
  server_->dp().SetMbufs(
      {.pool_size = 16383, .reserve = 4927, .worker_lcores = 1});
  ASSERT_TRUE(CreateWithQuota("a", 10, 8000).ok());
  ExpectRejected([&] { return CreateWithQuota("b", 11, 3457); },
                 StatusCode::RESOURCE_EXHAUSTED,
                 "tenant.quotas.max_held_packets: tenants' max_held_packets "
                 "would sum to 11457 per worker lcore (x 1 worker lcores = "
                 "11457 mbufs), but the mbuf pool has 16383 of which the data "
                 "plane reserves 4927");
  ASSERT_TRUE(CreateWithQuota("b", 11, 3456).ok()) << "exactly full fits";

  // A quota raised past the pool (the reported 1048576).
  ExpectRejected([&] { return SetQuota("a", 1 << 20, ""); },
                 StatusCode::RESOURCE_EXHAUSTED, "sum to 1052032");
  // Lowering is admitted even when the pool shrank under the tenants.
  server_->dp().SetMbufs(
      {.pool_size = 16383, .reserve = 4927, .worker_lcores = 2});
  ExpectRejected([&] { return SetQuota("b", 3457, ""); },
                 StatusCode::RESOURCE_EXHAUSTED, "x 2 worker lcores = 22914");
  EXPECT_TRUE(SetQuota("a", 2000, "").ok());
  EXPECT_TRUE(SetQuota("b", 3000, "").ok());
  EXPECT_EQ(server_->dp().tenant("a")->max_held_packets, 2000u);
}

TEST_F(LimitsTest, TenantCountIsConfigurable) {
  v1::ApiLimits limits;
  limits.set_max_tenants(3);
  Restart(limits);
  ASSERT_TRUE(CreateWithQuota("c", 30, 0).ok());
  ExpectRejected([&] { return CreateWithQuota("d", 31, 0); },
                 StatusCode::RESOURCE_EXHAUSTED,
                 "at most 3 tenants (limits.max_tenants)");
}

TEST_F(LimitsTest, RouteHintsAreCappedOverAllTenants) {
  v1::ApiLimits limits;
  limits.set_max_route_hints(5);
  Restart(limits);
  auto add = [&](const std::string& tenant, int first, int n) {
    v1::AddRouteHintsRequest req;
    req.set_tenant(tenant);
    for (int i = first; i < first + n; ++i) {
      v1::RouteHint* h = req.add_hints();
      h->set_prefix(absl::StrCat("10.", i, ".0.0/16"));
      h->set_mode(v1::GRO_MODE_LIST);
    }
    v1::AddRouteHintsResponse resp;
    return stub_->AddRouteHints(Ctx(admin_token_).get(), req, &resp);
  };
  ASSERT_TRUE(add("acme", 0, 3).ok());
  ASSERT_TRUE(add("acme", 0, 3).ok()) << "replacing adds nothing";
  ExpectRejected([&] { return add("beta", 10, 3); },
                 StatusCode::RESOURCE_EXHAUSTED,
                 "all tenants would have 6 route hints; at most 5 "
                 "(limits.max_route_hints)");
  EXPECT_TRUE(add("beta", 10, 2).ok());
}

TEST_F(LimitsTest, MutationsAreRateLimitedPerPrincipal) {
  v1::ApiLimits limits;
  limits.set_mutations_per_second(2);
  limits.set_mutation_burst(3);
  Restart(limits);  // admin spent 2 of its tokens on acme and beta
  auto set_segments = [&](const std::string& tenant, uint32_t n,
                          grpc::ClientContext* ctx) {
    v1::SetFlushPolicyRequest req;
    req.set_tenant(tenant);
    req.mutable_policy()->set_kind(v1::FLUSH_KIND_PER_BURST);
    req.mutable_policy()->set_max_segments(n);
    v1::FlushPolicy out;
    return stub_->SetFlushPolicy(ctx, req, &out);
  };
  for (uint32_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        set_segments("acme", 10 + i, Ctx("acme-secret-0123456789").get()).ok())
        << i;
  }
  std::unique_ptr<grpc::ClientContext> ctx;
  ExpectRejected(
      [&] {
        ctx = Ctx("acme-secret-0123456789");
        return set_segments("acme", 40, ctx.get());
      },
      StatusCode::RESOURCE_EXHAUSTED,
      "principal acme made more than 2 changes per second (burst 3; "
      "limits.mutations_per_second); retry in ");
  const auto& trailers = ctx->GetServerTrailingMetadata();
  auto it = trailers.find("grpc-retry-pushback-ms");
  ASSERT_NE(it, trailers.end());
  const int wait_ms =
      std::stoi(std::string(it->second.data(), it->second.size()));
  EXPECT_GT(wait_ms, 0);
  EXPECT_LE(wait_ms, 500);
  // Another principal has its own bucket.
  EXPECT_TRUE(
      set_segments("beta", 20, Ctx("beta-secret-0123456789").get()).ok());
  // Reads are not limited.
  v1::Tenant t;
  v1::GetTenantRequest get;
  get.set_name("acme");
  EXPECT_TRUE(
      stub_->GetTenant(Ctx("acme-secret-0123456789").get(), get, &t).ok());
  EXPECT_EQ(t.flush_policy().max_segments(), 12u);
  // After the hinted wait a token is back.
  // sleep-ok: the bucket refills with time; what is tested is that the
  // hinted wait is long enough, so the test must wait exactly that long.
  std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms + 20));
  EXPECT_TRUE(
      set_segments("acme", 40, Ctx("acme-secret-0123456789").get()).ok());
}

TEST_F(LimitsTest, WatchStreamsAreCappedPerPrincipalAndInTotal) {
  v1::ApiLimits limits;
  limits.set_max_watch_streams(3);
  limits.set_max_watch_streams_per_principal(2);
  Restart(limits);
  struct Watch {
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReader<v1::Stats>> reader;
  };
  auto open = [&](const std::string& token) {
    Watch w{Ctx(token), nullptr};
    v1::WatchStatsRequest req;
    req.mutable_interval()->set_nanos(100'000'000);
    w.reader = stub_->WatchStats(w.ctx.get(), req);
    return w;
  };
  auto first_message = [](Watch& w) {
    v1::Stats s;
    return w.reader->Read(&s);
  };
  auto refused = [](Watch& w, const std::string& text) {
    v1::Stats s;
    EXPECT_FALSE(w.reader->Read(&s));
    grpc::Status st = w.reader->Finish();
    EXPECT_EQ(st.error_code(), StatusCode::RESOURCE_EXHAUSTED)
        << st.error_message();
    EXPECT_NE(st.error_message().find(text), std::string::npos)
        << st.error_message();
  };
  Watch a1 = open("acme-secret-0123456789"),
        a2 = open("acme-secret-0123456789");
  ASSERT_TRUE(first_message(a1));
  ASSERT_TRUE(first_message(a2));
  Watch a3 = open("acme-secret-0123456789");
  refused(a3,
          "principal acme already has 2 WatchStats streams open "
          "(limits.max_watch_streams_per_principal)");
  Watch b1 = open("beta-secret-0123456789");
  ASSERT_TRUE(first_message(b1));
  Watch b2 = open("beta-secret-0123456789");
  refused(b2,
          "3 WatchStats streams are open, the most grod serves "
          "(limits.max_watch_streams)");
  // Closing a stream frees its slot.
  a1.ctx->TryCancel();
  a1.reader->Finish();
  // The slot frees once the server has seen the cancel.
  EXPECT_TRUE(::grod::testing::WaitFor(
      [&] {
        Watch b3 = open("beta-secret-0123456789");
        const bool reopened = first_message(b3);
        if (reopened) b3.ctx->TryCancel();
        b3.reader->Finish();
        return reopened;
      },
      absl::Seconds(10), absl::Milliseconds(50)));
  for (Watch* w : {&a2, &b1}) {
    w->ctx->TryCancel();
    w->reader->Finish();
  }
}

TEST(ApiLimitsTest, DefaultsAndBounds) {
  const Limits d = DefaultLimits();
  EXPECT_EQ(d.max_tenants, 256u);
  EXPECT_EQ(d.max_route_hints, 2'000'000u);
  EXPECT_EQ(d.max_watch_streams, 16u);
  EXPECT_EQ(d.max_watch_streams_per_principal, 4u);
  EXPECT_EQ(d.max_rpc_threads, 32u);
  EXPECT_EQ(d.mutations_per_second, 20u);
  EXPECT_EQ(d.mutation_burst, 100u);
  v1::ApiLimits l;
  l.set_max_tenants(257);
  EXPECT_EQ(ResolveLimits(l).status().message(),
            "limits.max_tenants: 257 is over 256, the most the data plane has "
            "room for");
  l.Clear();
  l.set_max_rpc_threads(8);
  l.set_max_watch_streams(7);
  EXPECT_EQ(ResolveLimits(l).status().message(),
            "limits.max_watch_streams: 7 must be at most max_rpc_threads - 2 "
            "(6): each stream holds a gRPC thread");
  l.set_max_watch_streams(6);
  EXPECT_TRUE(ResolveLimits(l).ok());
  // A bad limit stops the control plane from being created at all.
  testing::FakeDataPlane dp;
  ControlPlaneOptions opts;
  opts.limits.set_max_watch_streams_per_principal(17);
  auto cp = ControlPlane::Create(std::move(opts), &dp);
  EXPECT_EQ(cp.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace grod::controlplane
