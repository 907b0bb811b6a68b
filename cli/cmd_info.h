// grocli info / grocli ports.
#ifndef GROD_CLI_CMD_INFO_H_
#define GROD_CLI_CMD_INFO_H_

#include "cli/command.h"

namespace grod::cli {

Command InfoCommand();
Command PortsCommand();

}  // namespace grod::cli

#endif  // GROD_CLI_CMD_INFO_H_
