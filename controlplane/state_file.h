// Durable, atomic storage of the persisted desired state.
//
// Save writes "<file>.tmp", fsyncs it, renames it over the file and fsyncs
// the directory, so after a crash at any moment the file holds either the
// old or the new state, never a mix; a reply is only sent after Save
// returns, so no acknowledged change is lost.
#ifndef GROD_CONTROLPLANE_STATE_FILE_H_
#define GROD_CONTROLPLANE_STATE_FILE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/state.pb.h"

namespace grod::controlplane {

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);

absl::Status SaveState(const std::string& path, const PersistedState& state);

// nullopt if the file does not exist. A file that cannot be parsed yields
// DATA_LOSS; one that cannot be read, its errno's code.
absl::StatusOr<std::optional<PersistedState>> LoadState(
    const std::string& path);

// Renames an unusable file to "<path>.<reason>-<UTC timestamp>" (reason:
// "corrupt", "rejected") so an operator can inspect or re-apply it later;
// returns the new name.
absl::StatusOr<std::string> MoveAside(const std::string& path,
                                      absl::string_view reason);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_STATE_FILE_H_
