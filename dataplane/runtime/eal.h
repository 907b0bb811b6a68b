// EAL lifetime: initialised once per process, from pass-through arguments.
#ifndef GROD_DATAPLANE_RUNTIME_EAL_H_
#define GROD_DATAPLANE_RUNTIME_EAL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace grod::dataplane {

// Calls rte_eal_init with {"grod", args...}. Fails with a message that says
// what went wrong and what to try (DPDK's own reason is included).
absl::Status InitEal(const std::vector<std::string>& args);

// rte_eal_cleanup; safe to call if InitEal failed or was never called.
void CleanupEal();

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_EAL_H_
