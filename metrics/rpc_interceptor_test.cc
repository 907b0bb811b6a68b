// A real in-process gRPC server with the exporter's interceptor: every call
// shows up in the scrape by method and status code.
#include <memory>
#include <string>

#include "common/testing/fake_dataplane.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "metrics/exporter.h"
#include "metrics/testing/http_get.h"
#include "proto/grod/v1/grod.grpc.pb.h"

namespace grod::metrics {
namespace {

class TestService : public grod::v1::Grod::Service {
  grpc::Status GetInfo(grpc::ServerContext*, const grod::v1::GetInfoRequest*,
                       grod::v1::ServiceInfo*) override {
    return grpc::Status::OK;
  }
  grpc::Status GetTenant(grpc::ServerContext*,
                         const grod::v1::GetTenantRequest*,
                         grod::v1::Tenant*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such tenant");
  }
};

TEST(RpcInterceptorTest, CountsCallsByMethodAndCode) {
  grod::testing::FakeDataPlane dp;
  auto exporter = Exporter::Create("127.0.0.1:0", &dp);
  ASSERT_TRUE(exporter.ok()) << exporter.status();

  TestService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back((*exporter)->MakeRpcInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  auto stub = grod::v1::Grod::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    grod::v1::ServiceInfo info;
    ASSERT_TRUE(stub->GetInfo(&ctx, {}, &info).ok());
  }
  {
    grpc::ClientContext ctx;
    grod::v1::Tenant t;
    EXPECT_EQ(stub->GetTenant(&ctx, {}, &t).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;  // not overridden: UNIMPLEMENTED
    grod::v1::ListTenantsResponse r;
    EXPECT_EQ(stub->ListTenants(&ctx, {}, &r).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  server->Shutdown();

  auto text = testing::HttpGet((*exporter)->port(), "/metrics");
  ASSERT_TRUE(text.ok()) << text.status();
  for (const char* want : {
           "grod_grpc_server_handled_total{grpc_code=\"OK\",grpc_method="
           "\"GetInfo\",grpc_service=\"grod.v1.Grod\"} 3",
           "grod_grpc_server_handled_total{grpc_code=\"NotFound\","
           "grpc_method=\"GetTenant\",grpc_service=\"grod.v1.Grod\"} 1",
           "grod_grpc_server_handled_total{grpc_code=\"Unimplemented\","
           "grpc_method=\"ListTenants\",grpc_service=\"grod.v1.Grod\"} 1",
           "grod_grpc_server_handling_seconds_count{grpc_code=\"OK\","
           "grpc_method=\"GetInfo\",grpc_service=\"grod.v1.Grod\"} 3",
       }) {
    EXPECT_NE(text->find(want), std::string::npos) << want << "\n" << *text;
  }
}

}  // namespace
}  // namespace grod::metrics
