// Request validation and normalisation for tenants and flush policies.
//
// Every error is INVALID_ARGUMENT and starts with the offending field's
// path as the client wrote it ("tenant.flush_policy.timeout: ..."), so a
// user can fix the request without reading server code. Normalising (filling
// defaults, clearing output-only fields) happens here too, so what the
// controller stores, persists and returns is always in one canonical form.
#ifndef GROD_CONTROLPLANE_VALIDATE_H_
#define GROD_CONTROLPLANE_VALIDATE_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::controlplane {

// `field` is the path of the name ("tenant.name", "name", "tenant").
absl::Status ValidateTenantName(absl::string_view name,
                                absl::string_view field);

// Validates and normalises a policy: kind UNSPECIFIED -> PER_BURST,
// 0 limits -> their maximum. `field` e.g. "tenant.flush_policy".
absl::StatusOr<v1::FlushPolicy> NormalizeFlushPolicy(
    const v1::FlushPolicy& policy, absl::string_view field);

// Validates and normalises a whole tenant (`field` e.g. "tenant"). Output-only
// fields are cleared. If `known_ports` is non-null, selector port ids must be
// in it (a typo'd port would otherwise silently match nothing).
absl::StatusOr<v1::Tenant> NormalizeTenant(
    const v1::Tenant& tenant, absl::string_view field,
    const std::set<uint32_t>* known_ports);

// A route hint's mode: MERGE, LIST or BYPASS.
absl::Status ValidateHintMode(int mode, absl::string_view field);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_VALIDATE_H_
