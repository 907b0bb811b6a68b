#include "common/log.h"

#include <atomic>
#include <cstdio>

namespace grod::log {
namespace {

std::atomic<int> stderr_level{static_cast<int>(Level::kInfo)};

bool StderrEnabled(Level level) {
  return static_cast<int>(level) <=
         stderr_level.load(std::memory_order_relaxed);
}

// One fprintf per line: stdio locks the stream, so lines from several
// threads do not interleave.
void StderrWrite(Level, std::string_view message) {
  std::fprintf(stderr, "grod: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

constexpr Sink kStderrSink = {StderrEnabled, StderrWrite};

std::atomic<const Sink*> current{&kStderrSink};

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kError:
      return "error";
    case Level::kWarning:
      return "warning";
    case Level::kNotice:
      return "notice";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "unknown";
}

void SetSink(const Sink* sink) {
  current.store(sink != nullptr ? sink : &kStderrSink,
                std::memory_order_release);
}

void SetStderrLevel(Level level) {
  stderr_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool Enabled(Level level) {
  return current.load(std::memory_order_acquire)->enabled(level);
}

void Write(Level level, std::string_view message) {
  current.load(std::memory_order_acquire)->write(level, message);
}

}  // namespace grod::log
