#include "dataplane/bench/stage_rig.h"

#include <rte_ethdev.h>

#include <optional>

#include "dataplane/bench/fatal.h"
#include "dataplane/gro/gro_engine.h"
#include "dataplane/runtime/worker_command.h"

namespace grod::dataplane::bench {

StageRig MakeStageRig(uint16_t rx_port, const Egress::Ports& ports) {
  StageRig r;
  r.counters = std::make_unique<PortLcoreCounters[]>(RTE_MAX_ETHPORTS);
  r.egress = std::make_unique<Egress>(0, ports, r.counters.get());
  r.stage = std::make_unique<GroStage>(4789, r.egress.get());
  WorkerCommand create{WorkerCommand::Kind::kCreate, 0, gro::ContextConfig{}};
  if (!r.stage->Execute(create)) Die("cannot create a GRO context");
  r.snap = std::make_unique<ConfigSnapshot>();
  Check(r.snap->classifier.Add({rx_port, std::nullopt, std::nullopt}, 0),
        "classifier");
  r.tenant().active = true;
  return r;
}

}  // namespace grod::dataplane::bench
