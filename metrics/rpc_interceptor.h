// Control-plane RPC metrics: a gRPC server interceptor that counts every call
// by service, method and status code and records its latency.
//
// This is the control path (a few calls per second at most), so plain
// prometheus-cpp families with their internal locks are fine here.
#ifndef GROD_METRICS_RPC_INTERCEPTOR_H_
#define GROD_METRICS_RPC_INTERCEPTOR_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"
#include "prometheus/registry.h"

namespace grod::metrics {

// Registers grod_grpc_server_handled_total and
// grod_grpc_server_handling_seconds in `registry` (once per registry) and
// returns a factory whose interceptors feed them. The factory keeps the
// registry alive, so it may outlive whoever created it.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcInterceptorFactory(std::shared_ptr<prometheus::Registry> registry);

}  // namespace grod::metrics

#endif  // GROD_METRICS_RPC_INTERCEPTOR_H_
