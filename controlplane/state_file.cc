#include "controlplane/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

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

absl::Status FsyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, absl::StrCat("open ", dir));
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  if (rc != 0) return ErrnoError(err, absl::StrCat("fsync ", dir));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  const int fd =
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, absl::StrCat("create ", tmp));
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return ErrnoError(err, absl::StrCat("write ", tmp));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    const int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return ErrnoError(err, absl::StrCat("fsync ", tmp));
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoError(err, absl::StrCat("rename ", tmp, " to ", path));
  }
  // Without this the rename itself may not survive a power loss.
  return FsyncDir(DirName(path));
}

absl::Status SaveState(const std::string& path, const PersistedState& state) {
  std::string bytes;
  if (!state.SerializeToString(&bytes)) {
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
  PersistedState state;
  if (!state.ParseFromString(buf.str())) {
    return absl::DataLossError("not a valid protobuf");
  }
  return state;
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
