// Runs the real grod binary as a child process for end-to-end tests:
// writes its config, waits until it serves, and stops it with a signal.
#ifndef GROD_TESTS_TESTING_GROD_PROCESS_H_
#define GROD_TESTS_TESTING_GROD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metrics/testing/http_get.h"

namespace grod::testing {

// Path of a runfile, e.g. Runfile("grod/grod").
std::string Runfile(const std::string& workspace_path);

// EAL arguments for a test instance: no hugepages, no PCI, no shared
// config, a unique file prefix and no telemetry socket, so several
// instances run in parallel inside Bazel's sandbox.
std::vector<std::string> TestEalArgs(const std::vector<std::string>& vdevs);

// The same as `eal_args: "..."` lines of a GrodConfig text proto.
std::string TestEalArgsConfig(const std::vector<std::string>& vdevs);

class GrodProcess {
 public:
  // Starts grod with `config_text` (a GrodConfig text proto; grpc_listen and
  // metrics_listen are set to 127.0.0.1:0 unless present) plus extra flags.
  // Returns once grod logs that it serves, or an error with its log.
  static absl::StatusOr<GrodProcess> Start(
      const std::string& config_text,
      const std::vector<std::string>& extra_flags = {},
      absl::Duration timeout = absl::Seconds(30));

  // Starts grod the same way without waiting for its start-up line (for
  // runs whose log level hides it): grpc_port() and metrics_port() are 0.
  static GrodProcess Spawn(const std::string& config_text,
                           const std::vector<std::string>& extra_flags = {});

  GrodProcess(GrodProcess&& other) noexcept;
  GrodProcess& operator=(GrodProcess&&) = delete;
  ~GrodProcess();  // SIGKILLs a grod still running

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  std::string grpc_target() const;
  pid_t pid() const { return pid_; }
  std::string log() const;  // everything grod wrote to stderr/stdout

  // Sends `signal` and waits for exit; returns the exit status (as from
  // waitpid's WEXITSTATUS, or 128+signal if it died of a signal).
  absl::StatusOr<int> Stop(int signal,
                           absl::Duration timeout = absl::Seconds(30));

 private:
  GrodProcess() = default;
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::string log_path_;
};

// Plain HTTP/1.0 GET on 127.0.0.1 (grod's /metrics): the one test HTTP
// client, shared with the metrics tests.
using ::grod::metrics::testing::HttpGet;

// The sum of a family's samples in a Prometheus text exposition, over the
// lines whose labels contain `label_filter` ("" for all).
double MetricSum(const std::string& text, const std::string& family,
                 const std::string& label_filter = "");

// Runs a command (argv) to completion; returns exit code and stdout.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv);

}  // namespace grod::testing

#endif  // GROD_TESTS_TESTING_GROD_PROCESS_H_
