// grocli version: this grocli's version and the connected grod's.
#ifndef GROD_CLI_CMD_VERSION_H_
#define GROD_CLI_CMD_VERSION_H_

#include "cli/command.h"

namespace grod::cli {

Command VersionCommand();

}  // namespace grod::cli

#endif  // GROD_CLI_CMD_VERSION_H_
