// The worker's GRO stage and egress for one benchmark tenant: what the
// forwarding and flush benchmarks drive directly, the way Worker::Run does.
#ifndef GROD_DATAPLANE_BENCH_STAGE_RIG_H_
#define GROD_DATAPLANE_BENCH_STAGE_RIG_H_

#include <cstdint>
#include <memory>

#include "dataplane/runtime/egress.h"
#include "dataplane/runtime/gro_stage.h"
#include "dataplane/runtime/lcore_counters.h"
#include "dataplane/tenant/config_snapshot.h"

namespace grod::dataplane::bench {

struct StageRig {
  std::unique_ptr<PortLcoreCounters[]> counters;
  std::unique_ptr<Egress> egress;
  std::unique_ptr<GroStage> stage;  // one GRO context, tenant slot 0
  // Every packet on rx_port -> tenant 0 (active); the caller sets the
  // tenant's mode and flush policy.
  std::unique_ptr<ConfigSnapshot> snap;
  TenantRuntime& tenant() { return snap->tenants[0]; }
};

// Dies (benchmark harness) when the context cannot be created.
StageRig MakeStageRig(uint16_t rx_port, const Egress::Ports& ports);

}  // namespace grod::dataplane::bench

#endif  // GROD_DATAPLANE_BENCH_STAGE_RIG_H_
