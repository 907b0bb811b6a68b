#include "dataplane/runtime/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace grod::dataplane {
namespace {
bool eal_up = false;
}  // namespace

absl::Status InitEal(const std::vector<std::string>& args) {
  if (eal_up)
    return absl::FailedPreconditionError("EAL is already initialised");
  std::vector<std::string> storage = {"grod"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  // rte_eal_init may permute argv; it owns nothing we free.
  int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DPDK EAL initialisation failed (", rte_strerror(rte_errno),
        ") with arguments: ", absl::StrJoin(args, " "),
        ". Check eal_args in the config: lcores (-l) must exist, devices "
        "(-a / --vdev) must be bound to a DPDK driver, and without hugepages "
        "pass --no-huge -m <MB>."));
  }
  eal_up = true;
  return absl::OkStatus();
}

void CleanupEal() {
  if (!eal_up) return;
  rte_eal_cleanup();
  eal_up = false;
}

}  // namespace grod::dataplane
