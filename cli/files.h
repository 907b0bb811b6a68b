// Reading the files named on grocli's command line or in its environment.
#ifndef GROD_CLI_FILES_H_
#define GROD_CLI_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grod::cli {

// All of `path` ("-" = standard input). A file that cannot be read is a
// FAILED_PRECONDITION whose message reads "<what>: cannot read <path>:
// <reason>" (exit 1, not a usage error: the command line was well formed).
absl::StatusOr<std::string> ReadInputFile(const std::string& path,
                                          absl::string_view what);

}  // namespace grod::cli

#endif  // GROD_CLI_FILES_H_
