#include "metrics/rpc_interceptor.h"

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "grpcpp/support/interceptor.h"
#include "grpcpp/support/status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"

namespace grod::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;

// gRPC's canonical code names, as other gRPC exporters spell them, so
// dashboards can reuse familiar queries.
const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "Canceled";
    case grpc::StatusCode::UNKNOWN:
      return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FailedPrecondition";
    case grpc::StatusCode::ABORTED:
      return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "Unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "Internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "Unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "Unauthenticated";
    default:
      return "Unknown";
  }
}

// Latency buckets in seconds: control RPCs wait for every worker to adopt a
// new configuration, so the interesting range is ~100us .. a few seconds.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *b;
}

class RpcMetrics {
 public:
  explicit RpcMetrics(std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)),
        handled_(prometheus::BuildCounter()
                     .Name("grod_grpc_server_handled_total")
                     .Help("Control-plane RPCs completed, by method and "
                           "gRPC status code.")
                     .Register(*registry_)),
        seconds_(prometheus::BuildHistogram()
                     .Name("grod_grpc_server_handling_seconds")
                     .Help("Control-plane RPC latency from call start to "
                           "status, by method and gRPC status code.")
                     .Register(*registry_)) {}

  void Record(const std::string& full_method, grpc::StatusCode code,
              double seconds) {
    auto [service, method] = Split(Bound(full_method));
    const prometheus::Labels labels = {{"grpc_service", service},
                                       {"grpc_method", method},
                                       {"grpc_code", CodeName(code)}};
    handled_.Add(labels).Increment();
    seconds_.Add(labels, LatencyBuckets()).Observe(seconds);
  }

 private:
  // Method names come from the server's registered services, but an
  // unknown-method call could carry any path; cap the label set so a client
  // cannot grow the exporter's cardinality without bound.
  std::string Bound(const std::string& full_method) {
    static constexpr size_t kMaxMethods = 128;
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_.count(full_method)) return full_method;
    if (seen_.size() >= kMaxMethods) return "/unknown/unknown";
    seen_.insert(full_method);
    return full_method;
  }

  // "/grod.v1.Grod/GetInfo" -> {"grod.v1.Grod", "GetInfo"}.
  static std::pair<std::string, std::string> Split(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (path.empty() || path[0] != '/' || slash == 0 ||
        slash == std::string::npos) {
      return {"unknown", path.empty() ? "unknown" : path};
    }
    return {path.substr(1, slash - 1), path.substr(slash + 1)};
  }

  std::shared_ptr<prometheus::Registry> registry_;  // owns the families
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  std::mutex mu_;
  std::set<std::string> seen_;
};

class RpcInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(std::shared_ptr<RpcMetrics> metrics, std::string method)
      : metrics_(std::move(metrics)),
        method_(std::move(method)),
        start_(std::chrono::steady_clock::now()) {}

  // A call torn down without a status (client went away) still counts.
  ~RpcInterceptor() override {
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    const std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start_;
    metrics_->Record(method_, code, elapsed.count());
  }

  const std::shared_ptr<RpcMetrics> metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class RpcInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcInterceptorFactory(std::shared_ptr<RpcMetrics> metrics)
      : metrics_(std::move(metrics)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcInterceptor(metrics_, info->method() ? info->method() : "");
  }

 private:
  const std::shared_ptr<RpcMetrics> metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcInterceptorFactory(std::shared_ptr<prometheus::Registry> registry) {
  // prometheus-cpp returns the existing family when the same name is
  // registered again with the same help text, so several factories on one
  // registry share their counters.
  return std::make_unique<RpcInterceptorFactory>(
      std::make_shared<RpcMetrics>(std::move(registry)));
}

}  // namespace grod::metrics
