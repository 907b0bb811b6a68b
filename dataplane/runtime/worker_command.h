// What the control side asks a worker lcore to do with the state it owns
// (its per-tenant GRO contexts). Copied by value into the worker's
// single-producer single-consumer rte_ring, so a caller that stops waiting
// (a stalled worker) leaves nothing dangling; the worker executes commands
// between bursts and acknowledges by advancing its done-counter.
#ifndef GROD_DATAPLANE_RUNTIME_WORKER_COMMAND_H_
#define GROD_DATAPLANE_RUNTIME_WORKER_COMMAND_H_

#include <cstdint>

#include "dataplane/gro/gro_engine.h"

namespace grod::dataplane {

struct alignas(8) WorkerCommand {
  enum class Kind : uint8_t {
    // Create the slot's context (new tenant).
    kCreate,
    // Flush the slot's held packets out, then rebuild its context with a
    // new config (quotas, GRO types, size limits changed).
    kReplace,
    // Flush the slot's held packets out and free its context.
    kDestroy,
    // Tests only: stop polling (no heartbeat, no quiescent state) for
    // stall_ms, as a stuck lcore would.
    kStallForTest,
  };
  Kind kind;
  uint16_t slot = 0;
  gro::ContextConfig config;  // kCreate / kReplace
  uint32_t stall_ms = 0;      // kStallForTest
};
// rte_ring element sizes are multiples of 4 bytes.
static_assert(sizeof(WorkerCommand) % 4 == 0);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_WORKER_COMMAND_H_
