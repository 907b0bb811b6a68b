#include "dataplane/runtime/log.h"

#include <atomic>

#include "common/log.h"

namespace grod::dataplane {

// Registered when the program starts, before EAL parses --log-level, so
// the options apply in the order given (the last matching one wins) as for
// DPDK's own types. (A type registered after EAL init takes the first
// matching option instead.)
RTE_LOG_REGISTER(grod_dataplane_logtype, grod.dataplane, INFO);
RTE_LOG_REGISTER(grod_logtype, grod, INFO);

namespace {

static_assert(static_cast<int>(log::Level::kError) == RTE_LOG_ERR);
static_assert(static_cast<int>(log::Level::kWarning) == RTE_LOG_WARNING);
static_assert(static_cast<int>(log::Level::kNotice) == RTE_LOG_NOTICE);
static_assert(static_cast<int>(log::Level::kInfo) == RTE_LOG_INFO);
static_assert(static_cast<int>(log::Level::kDebug) == RTE_LOG_DEBUG);

// Whether the sink points at rte_log (the level is kept on the way back).
std::atomic<bool> routed{false};

bool RteEnabled(log::Level level) {
  return rte_log_can_log(grod_logtype, static_cast<uint32_t>(level));
}

void RteWrite(log::Level level, std::string_view message) {
  rte_log(static_cast<uint32_t>(level), grod_logtype, "grod: %.*s\n",
          static_cast<int>(message.size()), message.data());
}

constexpr log::Sink kRteSink = {RteEnabled, RteWrite};

}  // namespace

void RouteCommonLogToRteLog() {
  routed = true;
  log::SetSink(&kRteSink);
}

void RouteCommonLogToStderr() {
  if (!routed.exchange(false)) return;
  const int level = rte_log_get_level(grod_logtype);
  if (level > RTE_LOG_DEBUG) {
    log::SetStderrLevel(log::Level::kDebug);
  } else if (level >= RTE_LOG_ERR) {
    log::SetStderrLevel(static_cast<log::Level>(level));
  } else {
    log::SetStderrLevel(log::Level::kError);  // critical and above: keep errors
  }
  log::SetSink(nullptr);
}

}  // namespace grod::dataplane
