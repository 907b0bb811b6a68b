// grocli stats [--watch].
#ifndef GROD_CLI_CMD_STATS_H_
#define GROD_CLI_CMD_STATS_H_

#include "cli/command.h"

namespace grod::cli {

Command StatsCommand();

}  // namespace grod::cli

#endif  // GROD_CLI_CMD_STATS_H_
