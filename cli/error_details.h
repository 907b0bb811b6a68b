// What grod attaches to a failed call (google.rpc.Status in the gRPC status
// details, controlplane/status_details.h), read back for printing: the
// BadRequest field violations and QuotaFailure violations a person needs,
// and the whole google.rpc.Status for -o json|yaml|textproto.
#ifndef GROD_CLI_ERROR_DETAILS_H_
#define GROD_CLI_ERROR_DETAILS_H_

#include <string>

#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"

namespace grod::cli {

// The google.rpc.Status the server sent in `status`'s details; when there is
// none (or it does not parse), one with just `status`'s code and message.
google::rpc::Status RpcStatusOf(const grpc::Status& status);

// One line per violation, each "  field <field>: <description>\n" (from
// BadRequest) or "  quota <subject>: <description>\n" (from QuotaFailure);
// "" if the status carries neither.
std::string ViolationLines(const google::rpc::Status& status);

}  // namespace grod::cli

#endif  // GROD_CLI_ERROR_DETAILS_H_
