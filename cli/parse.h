// Parsing grocli's argument spellings into grod.v1 values. Errors are usage
// errors whose message names the flag or argument.
#ifndef GROD_CLI_PARSE_H_
#define GROD_CLI_PARSE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/duration.pb.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::cli {

// "merge" | "list" | "bypass" (any case).
absl::StatusOr<v1::GroMode> ParseMode(absl::string_view text);
// "per-burst" | "timeout" | "adaptive".
absl::StatusOr<v1::FlushKind> ParseFlushKind(absl::string_view text);
// "tcp4,tcp6,udp4,udp6,ipv4-frag,vxlan" or "all" (= empty list).
absl::StatusOr<std::vector<v1::GroType>> ParseGroTypes(absl::string_view text);
// "port=0,vlan=10,vni=5" (any subset; "*" = match all).
absl::StatusOr<v1::TrafficSelector> ParseSelector(absl::string_view text);
// "200us", "1.5s", ...
absl::StatusOr<google::protobuf::Duration> ParseProtoDuration(
    absl::string_view text);
absl::StatusOr<uint32_t> ParseUint(absl::string_view text,
                                   absl::string_view what);
// Route hints: "PREFIX MODE" per line; blank lines and '#' comments skipped.
absl::StatusOr<std::vector<v1::RouteHint>> ParseHintLines(
    absl::string_view text, absl::string_view source);

}  // namespace grod::cli

#endif  // GROD_CLI_PARSE_H_
