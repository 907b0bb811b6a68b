// What the control side (the TenantManager) sees of a worker lcore: its
// mailbox, whether it is alive, and the per-tenant counters it keeps.
// Worker implements it; tests hand the TenantManager fakes, so its
// protocol (post, wait for every acknowledgement, give up on a stalled
// lcore, undo a half-applied change) is tested without lcores. Called from
// the control side only, never per packet.
#ifndef GROD_DATAPLANE_RUNTIME_WORKER_HANDLE_H_
#define GROD_DATAPLANE_RUNTIME_WORKER_HANDLE_H_

#include <cstdint>

#include "common/dataplane_types.h"
#include "dataplane/runtime/worker_command.h"

namespace grod::dataplane {

class WorkerHandle {
 public:
  virtual ~WorkerHandle() = default;

  virtual unsigned lcore() const = 0;
  // Queues a copy of `cmd` (one caller at a time) and returns the sequence
  // number commands_done() reaches once it ran, or 0 if the mailbox is full
  // (the worker stopped taking commands).
  virtual uint64_t Post(const WorkerCommand& cmd) = 0;
  virtual uint64_t commands_done() const = 0;
  // Commands that ran but failed (a GRO context could not be allocated).
  virtual uint64_t commands_failed() const = 0;
  // Set by the liveness monitor while the worker's heartbeat stands still.
  virtual bool stalled() const = 0;
  // Adds this lcore's counters of the tenant in `slot` to `out`.
  virtual void AddTenantCounters(uint16_t slot, TenantCounters* out) const = 0;
  // Adds this lcore's packets and bytes no tenant claimed to `out`
  // (packets_in, bytes_in).
  virtual void AddUnmatchedCounters(TenantCounters* out) const = 0;
};

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_WORKER_HANDLE_H_
