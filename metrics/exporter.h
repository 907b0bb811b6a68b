// grod's Prometheus endpoint: serves /metrics over HTTP with every data-plane
// family computed from DataPlane::Stats() at scrape time, plus the
// control-plane RPC families fed by MakeRpcInterceptorFactory().
#ifndef GROD_METRICS_EXPORTER_H_
#define GROD_METRICS_EXPORTER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/dataplane.h"
#include "grpcpp/support/server_interceptor.h"
#include "metrics/stats_collector.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace grod::metrics {

struct ExporterOptions {
  // The control plane's config generation and last-change time; empty = use
  // the snapshot's generation and omit the last-change gauge.
  ConfigVersionFn config_version;
  // grod_build_info's version and commit; its dpdk_version comes from
  // DataPlane::Info() when left empty.
  BuildLabels build;
  // HTTP threads serving scrapes.
  size_t http_threads = 2;
  // If set, /metrics requires HTTP basic auth and a scrape is served only
  // when this returns true for the user and password sent (else 401).
  // Called on civetweb's threads; must be thread-safe.
  std::function<bool(const std::string& user, const std::string& password)>
      basic_auth;
};

class Exporter {
 public:
  // Listens on `listen_address` ("127.0.0.1:9464", "0.0.0.0:9464",
  // "[::1]:9464"; port 0 picks a free one, see port()). `dp` must outlive
  // the exporter.
  static absl::StatusOr<std::unique_ptr<Exporter>> Create(
      const std::string& listen_address, const DataPlane* dp,
      ExporterOptions options = {});

  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // The TCP port actually bound.
  int port() const { return port_; }

  // For the control plane's gRPC server (ServerBuilder::
  // experimental().SetInterceptorCreators). Each call returns a new factory
  // feeding the same families; it stays valid after the exporter is gone.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  MakeRpcInterceptorFactory();

 private:
  Exporter(std::unique_ptr<prometheus::Exposer> exposer, int port,
           std::shared_ptr<StatsCollector> stats,
           std::shared_ptr<prometheus::Registry> registry);

  // Declared first so it is destroyed last: the exposer's threads must stop
  // before the collectables go away.
  std::shared_ptr<StatsCollector> stats_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace grod::metrics

#endif  // GROD_METRICS_EXPORTER_H_
