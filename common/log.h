// grod's one logging facility for code that must not depend on DPDK
// (controlplane/, metrics/, grod/ before EAL is up). Messages go to a sink:
// by default a line "grod: <message>" on stderr; once EAL is up, grod/main.cc
// points the sink at DPDK's rte_log (log type "grod"), so every line follows
// `--log-level` and goes wherever DPDK's log goes. The data plane logs with
// rte_log directly (dataplane/runtime/log.h, log type "grod.dataplane").
//
//   GROD_LOG(WARNING, "state file ", path, " is corrupt");
//
// The arguments are joined with absl::StrCat, and only when the level is
// enabled. Not for the per-packet fast path: a line allocates.
#ifndef GROD_COMMON_LOG_H_
#define GROD_COMMON_LOG_H_

#include <string_view>

#include "absl/strings/str_cat.h"

namespace grod::log {

// The same numbers as DPDK's RTE_LOG_ERR .. RTE_LOG_DEBUG, so the rte_log
// sink passes them through (checked there).
enum class Level : int {
  kError = 4,    // grod cannot do what it was asked (start-up fails, ...)
  kWarning = 5,  // grod goes on, but something is wrong or unsafe
  kNotice = 6,   // a significant normal event: start-up summary, stop, reload
  kInfo = 7,     // routine events
  kDebug = 8,    // details for finding a problem
};

// "error", "warning", "notice", "info", "debug" (--log-level's spelling).
std::string_view LevelName(Level level);

// Where lines go. Both functions may be called from any thread at once.
struct Sink {
  // Whether a line of `level` would be written (checked before formatting).
  bool (*enabled)(Level level);
  // Writes one line; `message` has no "grod: " prefix and no newline.
  void (*write)(Level level, std::string_view message);
};

// Replaces the sink (nullptr: back to stderr). `sink` must stay alive until
// it is replaced; lines being written while it is switched may still reach
// the previous sink.
void SetSink(const Sink* sink);

// The stderr sink writes lines up to `level` (default kInfo, like the
// "grod" type's default under rte_log).
void SetStderrLevel(Level level);

bool Enabled(Level level);
void Write(Level level, std::string_view message);

namespace internal {
inline constexpr Level kERROR = Level::kError;
inline constexpr Level kWARNING = Level::kWarning;
inline constexpr Level kNOTICE = Level::kNotice;
inline constexpr Level kINFO = Level::kInfo;
inline constexpr Level kDEBUG = Level::kDebug;
}  // namespace internal

}  // namespace grod::log

// severity: ERROR, WARNING, NOTICE, INFO or DEBUG.
#define GROD_LOG(severity, ...)                                     \
  do {                                                              \
    if (::grod::log::Enabled(::grod::log::internal::k##severity)) { \
      ::grod::log::Write(::grod::log::internal::k##severity,        \
                         ::absl::StrCat(__VA_ARGS__));              \
    }                                                               \
  } while (false)

#endif  // GROD_COMMON_LOG_H_
