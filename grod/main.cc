// grod: one process with the DPDK data plane, the gRPC control plane and
// the Prometheus endpoint. See README.md for running it.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "controlplane/auth.h"
#include "controlplane/control_plane.h"
#include "controlplane/offline_dataplane.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/log.h"
#include "dataplane/traffic/sample_traffic.h"
#include "grod/build_commit.h"
#include "grod/config.h"
#include "grod/health_probe.h"
#include "grod/sd_notify.h"
#include "grod/version.h"
#include "metrics/exporter.h"
#include "metrics/telemetry.h"

ABSL_FLAG(std::string, config, "",
          "Path to a grod.v1.GrodConfig: *.json (protobuf JSON mapping), "
          "*.yaml/*.yml, or protobuf text format (*.textproto, any other "
          "name). ${NAME} in eal_args is read from the environment. Empty: "
          "the embedded default (virtual devices replaying a sample capture).");
ABSL_FLAG(std::string, grpc_listen, "",
          "gRPC listen address (overrides the config; default " +
              std::string(grod::kDefaultGrpcListen) + ")");
ABSL_FLAG(std::string, metrics_listen, "",
          "Prometheus /metrics listen address (overrides the config; default " +
              std::string(grod::kDefaultMetricsListen) + ")");
ABSL_FLAG(std::string, state_file, "",
          "Where desired state is persisted (overrides the config)");
ABSL_FLAG(bool, discard_corrupt_state, false,
          "If the state file is corrupt, move it aside and start empty "
          "instead of refusing to start");
ABSL_FLAG(std::string, state_recovery, "quarantine",
          "If the state file is valid but cannot be applied on this machine "
          "(more held packets than the mbuf pool admits, the data plane "
          "refuses a tenant, ...): 'quarantine' moves it to "
          "<file>.rejected-<time> and starts from the config file (logged "
          "loudly); 'fail' refuses to start. See docs/OPERATIONS.md, "
          "\"Recovery\"");
ABSL_FLAG(std::string, write_sample_pcap, "",
          "Write the embedded default's sample capture to this path and exit");
ABSL_FLAG(std::string, probe, "",
          "'live' or 'ready': ask the grod serving this config's "
          "grpc_listen for its health (liveness: the process serves; "
          "readiness: the data plane forwards), exit 0 if SERVING. For "
          "Kubernetes exec probes");
ABSL_FLAG(bool, check_config, false,
          "Validate the configuration as start-up would (fields, tenants, "
          "hints, limits, TLS and credentials files, the state file), print "
          "it, and exit");
ABSL_FLAG(uint32_t, worker_stall_ms, 500,
          "A worker lcore whose poll loop makes no progress for this long is "
          "reported stalled: health NOT_SERVING, no systemd watchdog pings, "
          "configuration changes fail with UNAVAILABLE");
ABSL_FLAG(uint32_t, testonly_stall_worker_on_sigusr1_ms, 0,
          "Tests only: on SIGUSR1 the first worker lcore stops polling for "
          "this many milliseconds, as a stuck lcore would (0: SIGUSR1 is not "
          "handled)");

namespace grod {
namespace {

int Fail(const absl::Status& status) {
  GROD_LOG(ERROR, status.message());
  return 1;
}

// Sets *embedded when the config leaves the EAL setup to the default.
absl::StatusOr<v1::GrodConfig> BuildConfig(const std::string& sample_pcap,
                                           bool* embedded) {
  v1::GrodConfig config;
  if (!absl::GetFlag(FLAGS_config).empty()) {
    absl::StatusOr<v1::GrodConfig> loaded =
        LoadConfigFile(absl::GetFlag(FLAGS_config));
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  }
  if (!absl::GetFlag(FLAGS_grpc_listen).empty()) {
    config.set_grpc_listen(absl::GetFlag(FLAGS_grpc_listen));
  }
  if (!absl::GetFlag(FLAGS_metrics_listen).empty()) {
    config.set_metrics_listen(absl::GetFlag(FLAGS_metrics_listen));
  }
  if (!absl::GetFlag(FLAGS_state_file).empty()) {
    config.set_state_file(absl::GetFlag(FLAGS_state_file));
  }
  if (absl::Status s = ExpandEalArgs(&config); !s.ok()) return s;
  *embedded = UsesEmbeddedDefault(config);
  ApplyDefaults(&config, sample_pcap);
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  return config;
}

// The control plane's options from the config and flags: one function, so
// --check_config checks exactly what start-up uses.
absl::StatusOr<controlplane::ControlPlaneOptions> ControlPlaneOptionsFor(
    const v1::GrodConfig& config) {
  controlplane::ControlPlaneOptions options;
  options.listen_address = config.grpc_listen();
  absl::StatusOr<uint32_t> socket_mode = SocketMode(config);
  if (!socket_mode.ok()) return socket_mode.status();
  options.unix_socket_mode = *socket_mode;
  options.unix_socket_group = config.security().grpc_socket_group();
  options.security = config.security();
  options.state_file = config.state_file();
  options.discard_corrupt_state = absl::GetFlag(FLAGS_discard_corrupt_state);
  const std::string recovery = absl::GetFlag(FLAGS_state_recovery);
  if (recovery == "quarantine") {
    options.state_recovery = controlplane::StateRecovery::kQuarantine;
  } else if (recovery == "fail") {
    options.state_recovery = controlplane::StateRecovery::kFail;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--state_recovery: '", recovery,
                     "' is neither 'quarantine' nor 'fail'"));
  }
  options.limits = config.limits();
  options.version = kVersion;
  options.build = BuildInfo();
  return options;
}

// Everything start-up checks before EAL: the control plane is created (TLS
// and credentials files read) and its Bootstrap checks run against an
// offline data plane, without applying or writing anything.
absl::Status CheckConfig(const v1::GrodConfig& config) {
  if (!config.security().metrics_credentials_file().empty()) {
    absl::Status s = controlplane::Authorizer::FromFile(
                         config.security().metrics_credentials_file())
                         .status();
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("security.metrics_credentials_file: ", s.message()));
    }
  }
  absl::StatusOr<controlplane::ControlPlaneOptions> options =
      ControlPlaneOptionsFor(config);
  if (!options.ok()) return options.status();
  controlplane::OfflineDataPlane offline;
  absl::StatusOr<std::unique_ptr<controlplane::ControlPlane>> cp =
      controlplane::ControlPlane::Create(*std::move(options), &offline);
  if (!cp.ok()) return cp.status();
  return (*cp)->CheckBootstrap(config);
}

// Blocks the stop and reload signals (and SIGUSR1 for the stall test
// hook) before any thread starts, so every thread inherits the mask and only
// sigwait in WaitForStop sees them.
sigset_t BlockStopSignals(bool stall_on_sigusr1) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  if (stall_on_sigusr1) sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// --probe and --check_config: answer and exit without starting anything.
std::optional<int> RunOneShotMode(const v1::GrodConfig& config) {
  if (!absl::GetFlag(FLAGS_probe).empty()) {
    if (absl::Status s = ProbeHealth(config, absl::GetFlag(FLAGS_probe));
        !s.ok()) {
      return Fail(s);
    }
    return 0;
  }
  if (!absl::GetFlag(FLAGS_check_config)) return std::nullopt;
  if (absl::Status s = CheckConfig(config); !s.ok()) return Fail(s);
  // log-ok: the checked config is this mode's output (stdout), not a log
  // line.
  std::printf("%s", config.DebugString().c_str());
  GROD_LOG(NOTICE,
           "config ok (held-packet quotas are admitted against the mbuf pool "
           "when grod starts)");
  return 0;
}

// /metrics basic auth: the users of security.metrics_credentials_file
// (nullptr when the file is not set).
absl::StatusOr<std::shared_ptr<controlplane::Authorizer>> MetricsAuthorizer(
    const v1::GrodConfig& config) {
  const std::string& file = config.security().metrics_credentials_file();
  if (file.empty()) return nullptr;
  absl::StatusOr<std::unique_ptr<controlplane::Authorizer>> a =
      controlplane::Authorizer::FromFile(file);
  if (!a.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "security.metrics_credentials_file: ", a.status().message()));
  }
  return std::shared_ptr<controlplane::Authorizer>(*std::move(a));
}

// The exporter's view of the control plane, which scrapes may reach before
// it exists or after it is gone (`cp` is null then), and its credentials.
metrics::ExporterOptions ExporterOptionsFor(
    const std::atomic<controlplane::ControlPlane*>* cp,
    std::shared_ptr<controlplane::Authorizer> auth) {
  metrics::ExporterOptions options;
  options.build.version = kVersion;
  options.build.commit = kBuildCommit;
  options.config_version = [cp]() {
    controlplane::ControlPlane* c = cp->load();
    metrics::ConfigVersion v;
    if (c != nullptr) {
      v.generation = c->config_generation();
      v.last_change = c->last_change_time();
      v.state_quarantined = !c->quarantined_state().empty();
    }
    return v;
  };
  if (auth != nullptr) {
    options.basic_auth = [auth](const std::string& user,
                                const std::string& password) {
      absl::StatusOr<controlplane::Principal> p =
          auth->Authenticate(absl::StrCat("Bearer ", password));
      return p.ok() && p->name == user;
    };
  }
  return options;
}

// SIGHUP: re-read credentials and certificates; forwarding and open
// connections go on.
void Reload(controlplane::ControlPlane& cp,
            controlplane::Authorizer* metrics_auth) {
  absl::StatusOr<std::string> reloaded = cp.Reload();
  if (reloaded.ok()) {
    GROD_LOG(NOTICE, "SIGHUP: ", *reloaded);
  } else {
    GROD_LOG(WARNING, "SIGHUP: ", reloaded.status().message());
  }
  if (metrics_auth == nullptr) return;
  absl::StatusOr<size_t> n = metrics_auth->Reload();
  if (n.ok()) {
    GROD_LOG(NOTICE, "SIGHUP: reloaded ", *n, " metrics credentials");
  } else {
    GROD_LOG(WARNING,
             "SIGHUP: metrics credentials not reloaded, the previous stay in "
             "force: ",
             n.status().message());
  }
}

// Serves until SIGINT or SIGTERM (returned); handles SIGHUP and the
// SIGUSR1 stall test hook meanwhile.
int WaitForStop(const sigset_t& signals, controlplane::ControlPlane& cp,
                controlplane::Authorizer* metrics_auth,
                dataplane::DpdkDataPlane& dp) {
  int sig = 0;
  while (true) {
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      Reload(cp, metrics_auth);
      continue;
    }
    if (sig != SIGUSR1) return sig;
    const uint32_t stall_ms =
        absl::GetFlag(FLAGS_testonly_stall_worker_on_sigusr1_ms);
    const unsigned lcore = dp.Info().worker_lcores.at(0);
    GROD_LOG(WARNING, "SIGUSR1: stalling worker lcore ", lcore, " for ",
             stall_ms, " ms (--testonly_stall_worker_on_sigusr1_ms)");
    dp.StallWorkerForTest(lcore, absl::Milliseconds(stall_ms)).IgnoreError();
  }
}

// Ports forward and gRPC serves: tell systemd (Type=notify), and keep its
// watchdog fed while every worker lcore polls (nullptr without a watchdog).
std::unique_ptr<SdWatchdog> NotifySystemd(dataplane::DpdkDataPlane* dp) {
  if (absl::Status s = SdNotify("READY=1\nSTATUS=forwarding"); !s.ok()) {
    GROD_LOG(WARNING, "systemd notification: ", s.message());
  }
  std::optional<absl::Duration> interval = SdWatchdogInterval();
  if (!interval) return nullptr;
  GROD_LOG(NOTICE, "systemd watchdog: pinging every ",
           absl::FormatDuration(*interval / 2),
           " while every worker lcore polls");
  return std::make_unique<SdWatchdog>(*interval, [dp] { return dp->Ready(); });
}

// Everything on top of a started data plane: metrics, the control plane
// (tenants applied before the first packet), telemetry, health and systemd
// notification; then serves until a stop signal.
int Serve(const v1::GrodConfig& config,
          controlplane::ControlPlaneOptions options,
          dataplane::DpdkDataPlane* dp, const sigset_t& stop_signals) {
  // Declared before the exporter, so the exporter (whose scrapes read it
  // through cp_for_metrics) is gone before the control plane is.
  std::unique_ptr<controlplane::ControlPlane> cp;
  std::atomic<controlplane::ControlPlane*> cp_for_metrics{nullptr};
  absl::StatusOr<std::shared_ptr<controlplane::Authorizer>> metrics_auth =
      MetricsAuthorizer(config);
  if (!metrics_auth.ok()) return Fail(metrics_auth.status());
  absl::StatusOr<std::unique_ptr<metrics::Exporter>> exporter =
      metrics::Exporter::Create(
          config.metrics_listen(), dp,
          ExporterOptionsFor(&cp_for_metrics, *metrics_auth));
  if (!exporter.ok()) return Fail(exporter.status());

  options.interceptors.push_back((*exporter)->MakeRpcInterceptorFactory());
  absl::StatusOr<std::unique_ptr<controlplane::ControlPlane>> created =
      controlplane::ControlPlane::Create(std::move(options), dp);
  if (!created.ok()) return Fail(created.status());
  cp = *std::move(created);
  cp_for_metrics = cp.get();
  if (absl::Status s = cp->Bootstrap(config); !s.ok()) return Fail(s);
  dp->StartForwarding();
  if (absl::Status s = cp->Start(); !s.ok()) return Fail(s);
  absl::StatusOr<std::unique_ptr<metrics::TelemetryRegistration>> telemetry =
      metrics::RegisterTelemetry(dp);
  if (!telemetry.ok()) return Fail(telemetry.status());
  // Health follows the workers' liveness from here on (no early return
  // below: the callback is cleared before `cp` goes away).
  dp->SetLivenessCallback([&cp] { cp->UpdateHealth(); });
  cp->UpdateHealth();

  GROD_LOG(NOTICE, "serving gRPC on ", config.grpc_listen(), " (bound port ",
           cp->port(), "), metrics on http://", config.metrics_listen(),
           "/metrics (bound port ", (*exporter)->port(), ")");
  std::unique_ptr<SdWatchdog> watchdog = NotifySystemd(dp);
  const int sig = WaitForStop(stop_signals, *cp, metrics_auth->get(), *dp);
  GROD_LOG(NOTICE, "received ", strsignal(sig), ", shutting down");
  SdNotify("STOPPING=1").IgnoreError();
  watchdog.reset();
  dp->SetLivenessCallback(nullptr);
  cp->Shutdown();
  cp_for_metrics = nullptr;
  return 0;
}

int Run() {
  const sigset_t stop_signals = BlockStopSignals(
      absl::GetFlag(FLAGS_testonly_stall_worker_on_sigusr1_ms) > 0);
  const std::string sample_pcap =
      (std::filesystem::temp_directory_path() /
       absl::StrCat("grod-sample-", getpid(), ".pcap"))
          .string();
  bool embedded = false;
  absl::StatusOr<v1::GrodConfig> config = BuildConfig(sample_pcap, &embedded);
  if (!config.ok()) return Fail(config.status());
  if (std::optional<int> done = RunOneShotMode(*config)) return *done;
  absl::StatusOr<controlplane::ControlPlaneOptions> options =
      ControlPlaneOptionsFor(*config);
  if (!options.ok()) return Fail(options.status());
  if (embedded) {
    if (absl::Status s = WritePcap(sample_pcap, SampleFrames()); !s.ok()) {
      return Fail(s);
    }
    GROD_LOG(NOTICE,
             "no --config: embedded default (net_pcap0 replays a sample "
             "capture into net_null0; no NIC, no hugepages)");
  }

  if (absl::Status s = dataplane::InitEal(std::vector<std::string>(
          config->eal_args().begin(), config->eal_args().end()));
      !s.ok()) {
    return Fail(s);
  }
  // From here on grod's lines follow --log-level (type "grod").
  dataplane::RouteCommonLogToRteLog();
  GROD_LOG(DEBUG,
           "EAL initialised with: ", absl::StrJoin(config->eal_args(), " "));
  dataplane::RuntimeConfig runtime_config = ToRuntimeConfig(*config);
  runtime_config.worker_stall_ms = absl::GetFlag(FLAGS_worker_stall_ms);
  absl::StatusOr<std::unique_ptr<dataplane::DpdkDataPlane>> dp =
      dataplane::DpdkDataPlane::Start(runtime_config);
  int exit_code = 1;
  if (dp.ok()) {
    exit_code = Serve(*config, *std::move(options), dp->get(), stop_signals);
    (*dp)->Stop();
    dp->reset();
  } else {
    Fail(dp.status());
  }
  // rte_eal_cleanup closes DPDK's log stream; keep the level on stderr.
  dataplane::RouteCommonLogToStderr();
  dataplane::CleanupEal();
  if (embedded) std::filesystem::remove(sample_pcap);
  if (exit_code == 0) GROD_LOG(NOTICE, "stopped cleanly");
  return exit_code;
}

}  // namespace
}  // namespace grod

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "grod: gRPC-controlled multi-tenant GRO for DPDK.\n"
      "  grod                         run on the embedded default\n"
      "  grod --config=grod.textproto run with a config file\n"
      "  grod --check_config --config=...  validate a config and exit");
  // --version prints what GetInfo reports (absl's default says only
  // whether NDEBUG is set).
  absl::FlagsUsageConfig usage;
  usage.version_string = [] {
    return absl::StrCat("grod ", grod::kVersion, " (", grod::BuildInfo(),
                        ")\n");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_write_sample_pcap).empty()) {
    absl::Status s = grod::WritePcap(absl::GetFlag(FLAGS_write_sample_pcap),
                                     grod::SampleFrames());
    if (!s.ok()) return grod::Fail(s);
    return 0;
  }
  return grod::Run();
}
