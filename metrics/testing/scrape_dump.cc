// Prints one live scrape of an exporter over a FakeDataPlane carrying
// SampleStats, after one gRPC call through the RPC interceptor so that the
// control-plane families have samples too. Deployment tests check dashboard
// and alert queries against the metric names it shows.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/testing/fake_dataplane.h"
#include "grpcpp/grpcpp.h"
#include "metrics/exporter.h"
#include "metrics/testing/http_get.h"
#include "metrics/testing/sample_stats.h"
#include "proto/grod/v1/grod.grpc.pb.h"

namespace {

class InfoService : public grod::v1::Grod::Service {
  grpc::Status GetInfo(grpc::ServerContext*, const grod::v1::GetInfoRequest*,
                       grod::v1::ServiceInfo*) override {
    return grpc::Status::OK;
  }
};

int Fail(const std::string& what) {
  fprintf(stderr, "scrape_dump: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  grod::testing::FakeDataPlane dp;
  dp.SetStats(grod::metrics::testing::SampleStats(1));
  grod::metrics::ExporterOptions options;
  options.config_version = [] {
    return grod::metrics::ConfigVersion{1, absl::Now()};
  };
  auto exporter = grod::metrics::Exporter::Create("127.0.0.1:0", &dp, options);
  if (!exporter.ok()) return Fail(exporter.status().ToString());

  InfoService service;
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
  if (server == nullptr) return Fail("gRPC server did not start");
  {
    auto stub = grod::v1::Grod::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    grod::v1::ServiceInfo info;
    if (!stub->GetInfo(&ctx, {}, &info).ok()) return Fail("GetInfo failed");
  }
  server->Shutdown();

  auto body = grod::metrics::testing::HttpGet((*exporter)->port(), "/metrics");
  if (!body.ok()) return Fail(body.status().ToString());
  fwrite(body->data(), 1, body->size(), stdout);
  return 0;
}
