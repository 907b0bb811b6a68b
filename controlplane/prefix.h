// CIDR prefix text <-> grod::IpPrefix.
//
// Kept apart from the proto conversion because both the service (route
// hints) and grocli-facing messages need the same canonical spelling: a
// prefix is always printed the way inet_ntop prints its address, so
// "2001:DB8:0::/32" and "2001:db8::/32" are the same hint.
#ifndef GROD_CONTROLPLANE_PREFIX_H_
#define GROD_CONTROLPLANE_PREFIX_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/dataplane_types.h"

namespace grod::controlplane {

// Parses "a.b.c.d/len" or "v6addr/len". The length is required and host
// bits must be zero. Errors are INVALID_ARGUMENT with a message that does
// not name the field (callers prefix it).
absl::StatusOr<IpPrefix> ParseIpPrefix(absl::string_view text);

// Canonical text of a prefix: "10.1.0.0/16", "2001:db8::/32".
std::string FormatIpPrefix(const IpPrefix& prefix);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_PREFIX_H_
