#include "metrics/exporter.h"

#include <exception>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "metrics/rpc_interceptor.h"

namespace grod::metrics {

absl::StatusOr<std::unique_ptr<Exporter>> Exporter::Create(
    const std::string& listen_address, const DataPlane* dp,
    ExporterOptions options) {
  if (dp == nullptr) return absl::InvalidArgumentError("no data plane");
  if (options.build.dpdk_version.empty()) {
    options.build.dpdk_version = dp->Info().dpdk_version;
  }
  auto stats = std::make_shared<StatsCollector>(
      dp, std::move(options.config_version), std::move(options.build));
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // civetweb reports a failed bind by throwing.
    exposer = std::make_unique<prometheus::Exposer>(listen_address,
                                                    options.http_threads);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ",
                                               listen_address, ": ", e.what()));
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::UnavailableError(
        absl::StrCat("metrics: not listening on ", listen_address));
  }
  if (options.basic_auth) {
    exposer->RegisterAuth(std::move(options.basic_auth), "grod metrics",
                          "/metrics");
  }
  exposer->RegisterCollectable(stats);
  exposer->RegisterCollectable(registry);
  return std::unique_ptr<Exporter>(
      new Exporter(std::move(exposer), ports[0], stats, registry));
}

Exporter::Exporter(std::unique_ptr<prometheus::Exposer> exposer, int port,
                   std::shared_ptr<StatsCollector> stats,
                   std::shared_ptr<prometheus::Registry> registry)
    : stats_(std::move(stats)),
      registry_(std::move(registry)),
      exposer_(std::move(exposer)),
      port_(port) {}

Exporter::~Exporter() {
  // Stop serving before the data plane (which outlives us only by contract)
  // could be torn down by the caller.
  exposer_.reset();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Exporter::MakeRpcInterceptorFactory() {
  return metrics::MakeRpcInterceptorFactory(registry_);
}

}  // namespace grod::metrics
