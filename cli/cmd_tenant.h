// grocli tenant create|get|list|update|delete.
#ifndef GROD_CLI_CMD_TENANT_H_
#define GROD_CLI_CMD_TENANT_H_

#include "cli/command.h"

namespace grod::cli {

Command TenantCreateCommand();
Command TenantGetCommand();
Command TenantListCommand();
Command TenantUpdateCommand();
Command TenantDeleteCommand();

}  // namespace grod::cli

#endif  // GROD_CLI_CMD_TENANT_H_
