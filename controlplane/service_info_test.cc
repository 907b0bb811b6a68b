// Info, ports, stats (unary and streaming), health and reflection.
#include <atomic>
#include <thread>

#include "grpcpp/generic/generic_stub.h"

#include "controlplane/service_test_util.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"

namespace grod::controlplane {
namespace {

using grpc::StatusCode;

TEST_F(ServiceTest, GetInfo) {
  Create("acme");
  v1::ServiceInfo info;
  ASSERT_TRUE(stub_->GetInfo(Ctx().get(), {}, &info).ok());
  EXPECT_EQ(info.version(), "test-version");
  EXPECT_EQ(info.dpdk_version(), "DPDK 22.11.0-fake");
  EXPECT_EQ(info.worker_lcores_size(), 1);
  EXPECT_EQ(info.config_generation(), 1u);
  EXPECT_TRUE(info.data_plane_ready());
  EXPECT_EQ(info.tenant_count(), 1u);
  EXPECT_GT(info.start_time().seconds(), 0);
}

TEST_F(ServiceTest, ListPorts) {
  v1::ListPortsResponse ports;
  ASSERT_TRUE(stub_->ListPorts(Ctx().get(), {}, &ports).ok());
  ASSERT_EQ(ports.ports_size(), 2);
  EXPECT_EQ(ports.ports(0).peer_port_id(), 1u);
  EXPECT_TRUE(ports.ports(0).capabilities().udp_tso());
  EXPECT_FALSE(ports.ports(1).capabilities().udp_tso());
  EXPECT_EQ(ports.ports(1).name(), "net_fake1");
}

TEST_F(ServiceTest, GetStats) {
  Create("acme");
  Create("beta", 11);
  StatsSnapshot snap;
  TenantCounters c;
  c.tenant = "acme";
  c.packets_in = 100;
  c.flushes["timeout"] = 3;
  snap.tenants.push_back(c);
  c.tenant = "beta";
  c.packets_in = 5;
  snap.tenants.push_back(c);
  snap.ports.push_back(
      PortCounters{.port_id = 0, .name = "p0", .rx_packets = 9});
  server_->dp().SetStats(snap);

  v1::Stats stats;
  ASSERT_TRUE(stub_->GetStats(Ctx().get(), {}, &stats).ok());
  ASSERT_EQ(stats.tenants_size(), 2);
  EXPECT_EQ(stats.tenants(0).packets_in(), 100u);
  EXPECT_EQ(stats.tenants(0).flushes().at("timeout"), 3u);
  ASSERT_EQ(stats.ports_size(), 1);
  EXPECT_EQ(stats.ports(0).rx_packets(), 9u);
  EXPECT_EQ(stats.config_generation(), 2u);

  v1::GetStatsRequest one;
  one.set_tenant("beta");
  ASSERT_TRUE(stub_->GetStats(Ctx().get(), one, &stats).ok());
  ASSERT_EQ(stats.tenants_size(), 1);
  EXPECT_EQ(stats.tenants(0).packets_in(), 5u);
  one.set_tenant("nope");
  ExpectError(stub_->GetStats(Ctx().get(), one, &stats), StatusCode::NOT_FOUND,
              "nope");
  one.set_tenant("NOPE");
  ExpectError(stub_->GetStats(Ctx().get(), one, &stats),
              StatusCode::INVALID_ARGUMENT, "tenant:");
  server_->dp().SetReady(false);
  ExpectError(stub_->GetStats(Ctx().get(), {}, &stats), StatusCode::UNAVAILABLE,
              "not ready");
}

TEST_F(ServiceTest, WatchStatsStreamsAtInterval) {
  Create("acme");
  v1::WatchStatsRequest req;
  req.mutable_interval()->set_nanos(100'000'000);
  grpc::ClientContext ctx;
  auto reader = stub_->WatchStats(&ctx, req);
  v1::Stats s;
  const absl::Time start = absl::Now();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(reader->Read(&s));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(290));  // 1st at once, then 3 x 100ms
  EXPECT_LT(took, absl::Seconds(3));
  EXPECT_EQ(s.tenants_size(), 1);
  ctx.TryCancel();
  while (reader->Read(&s)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), StatusCode::CANCELLED);
}

TEST_F(ServiceTest, WatchStatsErrorsAndDeadline) {
  v1::WatchStatsRequest req;
  req.mutable_interval()->set_nanos(1000);
  {
    grpc::ClientContext ctx;
    auto reader = stub_->WatchStats(&ctx, req);
    v1::Stats s;
    EXPECT_FALSE(reader->Read(&s));
    ExpectError(reader->Finish(), StatusCode::INVALID_ARGUMENT, "interval");
  }
  {
    req.clear_interval();
    req.set_tenant("nope");
    grpc::ClientContext ctx;
    auto reader = stub_->WatchStats(&ctx, req);
    v1::Stats s;
    EXPECT_FALSE(reader->Read(&s));
    ExpectError(reader->Finish(), StatusCode::NOT_FOUND, "nope");
  }
  {
    // The first message goes out at once, the next not for an hour: the
    // deadline, long enough for the first on any machine, ends the stream.
    req.clear_tenant();
    req.mutable_interval()->set_seconds(3600);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(2));
    auto reader = stub_->WatchStats(&ctx, req);
    v1::Stats s;
    int n = 0;
    while (reader->Read(&s)) ++n;
    EXPECT_EQ(n, 1);
    // The server ends the stream at the deadline; whichever side notices
    // first decides the code.
    const StatusCode code = reader->Finish().error_code();
    EXPECT_TRUE(code == StatusCode::OK || code == StatusCode::DEADLINE_EXCEEDED)
        << code;
  }
}

TEST_F(ServiceTest, ShutdownEndsStreamsPromptly) {
  grpc::ClientContext ctx;
  auto reader = stub_->WatchStats(&ctx, {});
  v1::Stats s;
  ASSERT_TRUE(reader->Read(&s));
  const absl::Time start = absl::Now();
  server_->cp().Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  while (reader->Read(&s)) {
  }
  reader->Finish();
}

TEST_F(ServiceTest, HealthFollowsDataPlaneReadiness) {
  auto channel = grpc::CreateChannel(server_->address(),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(health->Check(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  server_->dp().SetReady(false);
  server_->cp().UpdateHealth();
  // Liveness ("") stays SERVING: the process is alive, only not ready.
  ASSERT_TRUE(health->Check(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  req.set_service("grod.v1.Grod");
  ASSERT_TRUE(health->Check(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  server_->dp().SetReady(true);
  server_->cp().UpdateHealth();
  ASSERT_TRUE(health->Check(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

// Counts calls: stands in for another team's metrics interceptor.
class CountingInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit CountingInterceptor(std::atomic<int>* n) : n_(n) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                POST_RECV_INITIAL_METADATA)) {
      ++*n_;
    }
    m->Proceed();
  }

 private:
  std::atomic<int>* n_;
};

class CountingFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(std::atomic<int>* n) : n_(n) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new CountingInterceptor(n_);
  }

 private:
  std::atomic<int>* n_;
};

TEST(InterceptorTest, OptionsInterceptorsSeeEveryCall) {
  std::atomic<int> calls{0};
  ControlPlaneOptions opts;
  opts.interceptors.push_back(std::make_unique<CountingFactory>(&calls));
  TestServer server(std::move(opts));
  auto stub = server.Stub();
  v1::ServiceInfo info;
  ASSERT_TRUE(stub->GetInfo(Ctx().get(), {}, &info).ok());
  v1::ListPortsResponse ports;
  ASSERT_TRUE(stub->ListPorts(Ctx().get(), {}, &ports).ok());
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(ServiceTest, ReflectionListsTheService) {
  // grpc.reflection.v1alpha ServerReflectionInfo with list_services: ""
  // (field 7), hand-encoded: the reflection protos are not in the build.
  auto channel = grpc::CreateChannel(server_->address(),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  grpc::CompletionQueue cq;
  auto call = generic.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  const char request[] = {0x3a, 0x00};
  grpc::Slice slice(request, sizeof(request));
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(in.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  EXPECT_NE(bytes.find("grod.v1.Grod"), std::string::npos);
  ctx.TryCancel();
  grpc::Status finished;
  call->Finish(&finished, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace grod::controlplane
