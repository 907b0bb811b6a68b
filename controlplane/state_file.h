// Durable, atomic storage of the persisted desired state.
//
// Save writes "<file>.tmp", fsyncs it, keeps the old file as "<file>.prev"
// (a hard link), renames the new one over the file and fsyncs the
// directory, so after a crash at any moment the file holds either the old
// or the new state, never a mix; a reply is only sent after Save returns,
// so no acknowledged change is lost. If a step fails the old file is put
// back before Save returns its error, so a failed call leaves the file as
// it was (the commit point is the directory fsync's success).
//
// Format by name: a path ending ".textproto" or ".txtpb" holds protobuf
// text format, anything else binary (grod's default name is state.binpb).
// Load reads either, so a binary file under an old ".textproto" name (what
// grod wrote before) still loads; its next save is text.
#ifndef GROD_CONTROLPLANE_STATE_FILE_H_
#define GROD_CONTROLPLANE_STATE_FILE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controlplane/state.pb.h"

namespace grod::controlplane {

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents);

// Tests only: called before each step of WriteFileAtomically ("write",
// "fsync", "link", "rename", "fsync_dir") with the step's name; a non-OK
// result makes that step fail with it. nullptr (the default) = no faults.
using FaultHook = absl::Status (*)(absl::string_view step);
void SetFaultHookForTest(FaultHook hook);

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
