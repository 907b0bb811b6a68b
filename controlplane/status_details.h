// Machine-readable error details (google.rpc, AIP-193) on grod's errors.
//
// Errors travel as absl::Status through the controller; details ride along
// as payloads keyed by their type URL, exactly as google.rpc.Status.details
// carries them as Any. ToGrpcStatus turns both into a grpc::Status whose
// error_details is a serialized google.rpc.Status, so a client gets the
// message (which always names the field) and, for programs, the structured
// form: BadRequest for INVALID_ARGUMENT, ResourceInfo for NOT_FOUND,
// ALREADY_EXISTS and ABORTED (stale etag), QuotaFailure for
// RESOURCE_EXHAUSTED.
#ifndef GROD_CONTROLPLANE_STATUS_DETAILS_H_
#define GROD_CONTROLPLANE_STATUS_DETAILS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"

namespace grod::controlplane {

// The resource type ResourceInfo names for tenants.
inline constexpr char kTenantResourceType[] = "grod.v1.Tenant";

// INVALID_ARGUMENT "<field>: <description>" with a BadRequest naming it.
absl::Status FieldViolation(absl::string_view field,
                            absl::string_view description);

// `code` "tenant <name> ...": NOT_FOUND / ALREADY_EXISTS with ResourceInfo.
absl::Status TenantNotFound(absl::string_view name);
absl::Status TenantExists(absl::string_view name);

// ABORTED "<field>: ..." for an etag that is not the resource's current one
// (AIP-154): ResourceInfo names the resource, BadRequest the field.
absl::Status StaleEtag(absl::string_view field, absl::string_view resource,
                       absl::string_view current_etag);

// Attaches `detail` to `status` (replacing one of the same type).
void AddDetail(absl::Status& status, const google::protobuf::Message& detail);

// google.rpc.Status for `status`: its code, message and detail payloads.
// An INVALID_ARGUMENT without a BadRequest gets one from the message's
// leading "<field>: " (every grod validation error starts so), a
// RESOURCE_EXHAUSTED without a QuotaFailure gets one naming the limit.
google::rpc::Status ToRpcStatus(const absl::Status& status);

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_STATUS_DETAILS_H_
