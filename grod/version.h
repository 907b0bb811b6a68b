// grod's version and build identity, reported by GetInfo and --version.
#ifndef GROD_GROD_VERSION_H_
#define GROD_GROD_VERSION_H_

#include <string>

namespace grod {

inline constexpr char kVersion[] = "0.1.0";

// Compiler and build type, e.g. "gcc 12.2.0, optimized". (No date: Bazel
// redacts __DATE__ so builds are reproducible.)
inline std::string BuildInfo() {
#if defined(__clang__)
  std::string compiler = "clang " __clang_version__;
#else
  std::string compiler = "gcc " __VERSION__;
#endif
#if defined(__OPTIMIZE__)
  return compiler + ", optimized";
#else
  return compiler + ", unoptimized";
#endif
}

}  // namespace grod

#endif  // GROD_GROD_VERSION_H_
