// What the control side asks a worker lcore to do with the state it owns
// (its per-tenant GRO contexts). Sent through the worker's single-producer
// single-consumer rte_ring; the worker executes commands between bursts and
// acknowledges by advancing its done-counter.
#ifndef GROD_DATAPLANE_TENANT_WORKER_COMMAND_H_
#define GROD_DATAPLANE_TENANT_WORKER_COMMAND_H_

#include <cstdint>

#include "dataplane/gro/gro_engine.h"

namespace grod::dataplane {

struct WorkerCommand {
  enum class Kind : uint8_t {
    // Create the slot's context (new tenant).
    kCreate,
    // Flush the slot's held packets out, then rebuild its context with a
    // new config (quotas, GRO types, size limits changed).
    kReplace,
    // Flush the slot's held packets out and free its context.
    kDestroy,
  };
  Kind kind;
  uint16_t slot;
  gro::ContextConfig config;  // kCreate / kReplace
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_TENANT_WORKER_COMMAND_H_
