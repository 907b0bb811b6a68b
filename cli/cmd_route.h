// grocli route add|del|list.
#ifndef GROD_CLI_CMD_ROUTE_H_
#define GROD_CLI_CMD_ROUTE_H_

#include "cli/command.h"

namespace grod::cli {

Command RouteAddCommand();
Command RouteDeleteCommand();
Command RouteListCommand();

}  // namespace grod::cli

#endif  // GROD_CLI_CMD_ROUTE_H_
