// Logging in the data plane and the switch of common/log.h to DPDK's log.
//
// Two DPDK log types, so `--log-level` in eal_args sets their levels like
// any other DPDK component's (docs/OPERATIONS.md, "Logs"):
//   grod            grod/main.cc, controlplane/, metrics/ (through common/log.h
//                   once RouteCommonLogToRteLog has run)
//   grod.dataplane  the data plane (GROD_DP_LOG below)
// Both default to info. Lines read "grod: <message>", as before EAL is up.
//
// Not for the per-packet fast path: workers log nothing per packet.
#ifndef GROD_DATAPLANE_RUNTIME_LOG_H_
#define GROD_DATAPLANE_RUNTIME_LOG_H_

#include <rte_log.h>

namespace grod::dataplane {

// The "grod.dataplane" and "grod" log types, registered when the program
// starts; EAL sets their levels when it parses --log-level.
extern int grod_dataplane_logtype;
extern int grod_logtype;

// Points common/log.h's sink at rte_log (type "grod"). Call once EAL is
// initialised.
void RouteCommonLogToRteLog();

// Points common/log.h back at stderr, keeping the "grod" type's level.
// Call before rte_eal_cleanup (which closes DPDK's log stream).
void RouteCommonLogToStderr();

}  // namespace grod::dataplane

// GROD_DP_LOG(WARNING, "worker lcore %u stalled", lcore): printf-style, one
// line (the newline is added). severity: ERR, WARNING, NOTICE, INFO, DEBUG.
#define GROD_DP_LOG(severity, fmt, ...)                                  \
  rte_log(RTE_LOG_##severity, ::grod::dataplane::grod_dataplane_logtype, \
          "grod: " fmt "\n" __VA_OPT__(, ) __VA_ARGS__)

#endif  // GROD_DATAPLANE_RUNTIME_LOG_H_
