// UpdateTenant's field masks (AIP-134) and tenant differences, on top of
// protobuf's FieldMaskUtil so paths mean exactly what protobuf says they
// mean (nested paths such as flush_policy.timeout included).
#ifndef GROD_CONTROLPLANE_UPDATE_MASK_H_
#define GROD_CONTROLPLANE_UPDATE_MASK_H_

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::controlplane {

// The paths UpdateTenant takes from `patch`, in canonical form:
//   no paths -> every populated mutable top-level field of `patch`;
//   "*"      -> every mutable top-level field (full replacement);
//   else     -> the paths given, each checked to exist and be mutable.
// INVALID_ARGUMENT (with BadRequest) naming update_mask.paths[i], or
// update_mask when there is nothing to update.
absl::StatusOr<google::protobuf::FieldMask> ResolveUpdateMask(
    const v1::Tenant& patch, const google::protobuf::FieldMask& mask);

// `current` with the fields `resolved` names taken from `patch`: a named
// message or list replaces the stored one, a named field unset in `patch`
// is reset. Not yet validated.
v1::Tenant ApplyUpdateMask(const v1::Tenant& current, const v1::Tenant& patch,
                           const google::protobuf::FieldMask& resolved);

// Leaf paths of the mutable fields in which `a` and `b` differ (a list is
// one leaf), in field order: e.g. {"default_mode", "flush_policy.timeout"}.
google::protobuf::FieldMask ChangedFields(const v1::Tenant& a,
                                          const v1::Tenant& b);

// The same mutable fields of `a` and `b` (the rest -- name, timestamps,
// etag, route_hint_count -- is ignored).
bool SameSettings(const v1::Tenant& a, const v1::Tenant& b);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_UPDATE_MASK_H_
