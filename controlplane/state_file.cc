#include "controlplane/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"

namespace grod::controlplane {

namespace {

absl::Status ErrnoError(int err, absl::string_view what) {
  const std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::atomic<FaultHook> fault_hook{nullptr};

absl::Status Fault(absl::string_view step) {
  FaultHook hook = fault_hook.load();
  return hook == nullptr ? absl::OkStatus() : hook(step);
}

absl::Status FsyncDir(const std::string& dir) {
  if (absl::Status s = Fault("fsync_dir"); !s.ok()) return s;
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, absl::StrCat("open ", dir));
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  if (rc != 0) return ErrnoError(err, absl::StrCat("fsync ", dir));
  return absl::OkStatus();
}

absl::Status WriteAndSync(int fd, const std::string& tmp,
                          const std::string& contents) {
  if (absl::Status s = Fault("write"); !s.ok()) return s;
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, absl::StrCat("write ", tmp));
    }
    done += static_cast<size_t>(n);
  }
  if (absl::Status s = Fault("fsync"); !s.ok()) return s;
  if (fsync(fd) != 0) return ErrnoError(errno, absl::StrCat("fsync ", tmp));
  return absl::OkStatus();
}

bool IsTextPath(const std::string& path) {
  return absl::EndsWith(path, ".textproto") || absl::EndsWith(path, ".txtpb");
}

}  // namespace

void SetFaultHookForTest(FaultHook hook) { fault_hook = hook; }

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  const std::string prev = absl::StrCat(path, ".prev");
  const int fd =
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, absl::StrCat("create ", tmp));
  absl::Status written = WriteAndSync(fd, tmp, contents);
  close(fd);
  if (!written.ok()) {
    unlink(tmp.c_str());
    return written;
  }
  // Keep the old file reachable until the new one is durable, so a failure
  // below can put it back.
  unlink(prev.c_str());
  absl::Status linked = Fault("link");
  bool had_old = false;
  if (linked.ok()) {
    if (link(path.c_str(), prev.c_str()) == 0) {
      had_old = true;
    } else if (errno != ENOENT) {
      linked = ErrnoError(errno, absl::StrCat("link ", path, " to ", prev));
    }
  }
  if (!linked.ok()) {
    unlink(tmp.c_str());
    return linked;
  }
  absl::Status renamed = Fault("rename");
  if (renamed.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    renamed = ErrnoError(errno, absl::StrCat("rename ", tmp, " to ", path));
  }
  if (!renamed.ok()) {
    unlink(tmp.c_str());
    if (had_old) unlink(prev.c_str());
    return renamed;
  }
  // Without this the rename itself may not survive a power loss. If it
  // fails the caller reports failure, so the old state must be what the
  // file holds: put it back (or remove a first file).
  absl::Status synced = FsyncDir(DirName(path));
  if (!synced.ok()) {
    if (had_old ? rename(prev.c_str(), path.c_str()) != 0
                : unlink(path.c_str()) != 0) {
      return absl::DataLossError(absl::StrCat(
          synced.message(), "; and the previous state could not be put back (",
          std::strerror(errno), "): ", path, " may hold the failed change, ",
          prev, " the previous state"));
    }
    FsyncDir(DirName(path)).IgnoreError();
    return synced;
  }
  if (had_old) unlink(prev.c_str());
  return absl::OkStatus();
}

absl::Status SaveState(const std::string& path, const PersistedState& state) {
  std::string bytes;
  if (IsTextPath(path)) {
    if (!google::protobuf::TextFormat::PrintToString(state, &bytes)) {
      return absl::InternalError("cannot print state");
    }
    bytes = absl::StrCat(
        "# grod state file (protobuf text format, "
        "grod.controlplane.PersistedState in controlplane/state.proto).\n"
        "# Written by grod: edit only while grod is stopped.\n",
        bytes);
  } else if (!state.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialise state");
  }
  return WriteFileAtomically(path, bytes);
}

absl::StatusOr<std::optional<PersistedState>> LoadState(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    return ErrnoError(errno, absl::StrCat("open ", path));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return ErrnoError(errno, absl::StrCat("read ", path));
  // Binary (any name: grod wrote binary under ".textproto" names before)
  // or text; a file is binary if it parses as such and says it is grod's.
  const std::string bytes = buf.str();
  PersistedState state;
  if (state.ParseFromString(bytes) && state.magic() == "grod-state") {
    return state;
  }
  state.Clear();
  if (google::protobuf::TextFormat::ParseFromString(bytes, &state)) {
    return state;
  }
  return absl::DataLossError(
      "neither binary nor text protobuf of grod.controlplane.PersistedState");
}

absl::StatusOr<std::string> MoveAside(const std::string& path,
                                      absl::string_view reason) {
  const std::string aside = absl::StrCat(
      path, ".", reason, "-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone()));
  if (rename(path.c_str(), aside.c_str()) != 0) {
    return ErrnoError(errno, absl::StrCat("rename ", path, " to ", aside));
  }
  return aside;
}

}  // namespace grod::controlplane
