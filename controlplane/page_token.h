// Opaque page tokens for List calls.
//
// A token names the last key the previous page returned (not an offset),
// so pages stay correct while other clients add or delete entries. It also
// records which list and scope (e.g. the tenant of ListRouteHints) it
// belongs to, so a token cannot be replayed against another list.
#ifndef GROD_CONTROLPLANE_PAGE_TOKEN_H_
#define GROD_CONTROLPLANE_PAGE_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grod::controlplane {

std::string EncodePageToken(absl::string_view list, absl::string_view scope,
                            absl::string_view last_key);

// Returns the last key; INVALID_ARGUMENT "page_token: ..." if the token is
// malformed or was issued for another list or scope.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            absl::string_view list,
                                            absl::string_view scope);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_PAGE_TOKEN_H_
