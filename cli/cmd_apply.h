// grocli apply: declarative configuration through ApplyConfig.
#ifndef GROD_CLI_CMD_APPLY_H_
#define GROD_CLI_CMD_APPLY_H_

#include <string>

#include "cli/command.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::cli {

Command ApplyCommand();

// One line per change ("+ tenant gamma ...", "~ route acme 10.0.0.0/8
// list -> bypass", ...), then a summary line.
std::string DiffText(const v1::ApplyConfigResponse& resp, bool dry_run);

}  // namespace grod::cli

#endif  // GROD_CLI_CMD_APPLY_H_
