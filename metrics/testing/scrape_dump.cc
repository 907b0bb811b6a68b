// Prints one live scrape of an exporter over a FakeDataPlane carrying
// SampleStats, after one gRPC call through the RPC interceptor so that the
// control-plane families have samples too. Deployment tests check dashboard
// and alert queries against the metric names it shows.
//
//   scrape_dump --every_reason   every tenant and port also reports every
//                                reason the data plane has names for (the
//                                engine's and egress' own tables), so the
//                                scrape shows every `reason` label value.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/testing/fake_dataplane.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/tx_drop.h"
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

// Every reason the data plane can report, one of each. (The engine's pass
// reason 0, "none", is never reported: gro_stage.cc skips it.)
void AddEveryReason(grod::StatsSnapshot* s) {
  for (grod::TenantCounters& t : s->tenants) {
    for (int r = 1; r < grod::gro::kPassReasonCount; ++r) {
      t.passthrough[grod::gro::kPassReasonNames[r]] = 1;
    }
    for (int r = 0; r < grod::gro::kFlushReasonCount; ++r) {
      t.flushes[grod::gro::kFlushReasonNames[r]] = 1;
    }
  }
  for (grod::PortCounters& p : s->ports) {
    for (int r = 0; r < grod::dataplane::kTxDropReasonCount; ++r) {
      p.tx_drops[grod::dataplane::kTxDropNames[r]] = 1;
    }
  }
}

int Fail(const std::string& what) {
  fprintf(stderr, "scrape_dump: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  grod::StatsSnapshot stats = grod::metrics::testing::SampleStats(1);
  if (argc > 1 && std::string(argv[1]) == "--every_reason") {
    AddEveryReason(&stats);
  } else if (argc > 1) {
    return Fail(std::string("unknown argument ") + argv[1] +
                " (the only one is --every_reason)");
  }
  grod::testing::FakeDataPlane dp;
  dp.SetStats(stats);
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
