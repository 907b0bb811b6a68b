// grocli policy set|get.
#ifndef GROD_CLI_CMD_POLICY_H_
#define GROD_CLI_CMD_POLICY_H_

#include "cli/command.h"

namespace grod::cli {

Command PolicySetCommand();
Command PolicyGetCommand();

}  // namespace grod::cli

#endif  // GROD_CLI_CMD_POLICY_H_
