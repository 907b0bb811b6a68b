// grod's version and build identity, reported by GetInfo and --version.
#ifndef GROD_GROD_VERSION_H_
#define GROD_GROD_VERSION_H_

#include <string>

namespace grod {

inline constexpr char kVersion[] = "0.1.0";

// Compiler and build date, e.g. "gcc 12.2.0, built Nov 22 2026 10:00:00".
inline std::string BuildInfo() {
#if defined(__clang__)
  std::string compiler = "clang " __clang_version__;
#else
  std::string compiler = "gcc " __VERSION__;
#endif
  return compiler + ", built " __DATE__ " " __TIME__;
}

}  // namespace grod

#endif  // GROD_GROD_VERSION_H_
