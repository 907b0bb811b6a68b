#include "cli/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace grod::cli {

absl::StatusOr<std::string> ReadInputFile(const std::string& path,
                                          absl::string_view what) {
  if (path == "-") {
    std::stringstream buf;
    buf << std::cin.rdbuf();
    return buf.str();
  }
  auto cannot = [&](int err) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": cannot read ", path, ": ", std::strerror(err)));
  };
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"),
                                          &std::fclose);
  if (f == nullptr) return cannot(errno);
  std::string out;
  char chunk[64 * 1024];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f.get())) > 0) {
    out.append(chunk, n);
  }
  // A directory opens but fails to read (EISDIR).
  if (std::ferror(f.get())) return cannot(errno);
  return out;
}

}  // namespace grod::cli
