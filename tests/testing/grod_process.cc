#include "tests/testing/grod_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/testing/wait_for.h"

namespace grod::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string TempDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d ? d : "/tmp";
}

int counter = 0;

// Child: exec argv with stdout/stderr to files. Never returns.
[[noreturn]] void ExecInChild(const std::vector<std::string>& argv,
                              const std::string& out, const std::string& err) {
  int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int e =
      err == out ? o : open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(o, 1);
  dup2(e, 2);
  int devnull = open("/dev/null", O_RDONLY);
  dup2(devnull, 0);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
  _exit(127);
}

absl::StatusOr<int> WaitExit(pid_t pid, absl::Duration timeout) {
  int status = 0;
  if (!WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; },
               timeout)) {
    return absl::DeadlineExceededError("process did not exit in time");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace

std::string Runfile(const std::string& workspace_path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(dir ? dir : ".", "/grod/", workspace_path);
}

std::vector<std::string> TestEalArgs(const std::vector<std::string>& vdevs) {
  std::vector<std::string> args = {
      "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
      absl::StrCat("--file-prefix=t", getpid(), "_", counter++),
      "--no-telemetry",
      // DPDK quiet, grod's own lines (the start-up summary the tests wait
      // for is a notice) at its default level; a later option wins.
      "--log-level=*:warning", "--log-level=grod*:info"};
  for (const std::string& v : vdevs) args.push_back("--vdev=" + v);
  return args;
}

std::string TestEalArgsConfig(const std::vector<std::string>& vdevs) {
  std::string text;
  for (const std::string& a : TestEalArgs(vdevs)) {
    absl::StrAppend(&text, "eal_args: \"", a, "\"\n");
  }
  return text;
}

GrodProcess GrodProcess::Spawn(const std::string& config_text,
                               const std::vector<std::string>& extra_flags) {
  GrodProcess p;
  const std::string base =
      absl::StrCat(TempDir(), "/grod_", getpid(), "_", counter++);
  const std::string config_path = base + ".textproto";
  p.log_path_ = base + ".log";
  std::string text = config_text;
  if (text.find("grpc_listen") == std::string::npos) {
    text += "\ngrpc_listen: \"127.0.0.1:0\"";
  }
  if (text.find("metrics_listen") == std::string::npos) {
    text += "\nmetrics_listen: \"127.0.0.1:0\"";
  }
  std::ofstream(config_path) << text << "\n";

  // Stall detection is tested by the liveness tests with their own value
  // (a later flag wins); the rest run on a loaded two-core CI machine,
  // where a worker lcore can lose the CPU for longer than grod's 500 ms.
  std::vector<std::string> argv = {Runfile("grod/grod"),
                                   "--config=" + config_path,
                                   "--worker_stall_ms=5000"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  p.pid_ = fork();
  if (p.pid_ == 0) ExecInChild(argv, p.log_path_, p.log_path_);
  return p;
}

absl::StatusOr<GrodProcess> GrodProcess::Start(
    const std::string& config_text, const std::vector<std::string>& extra_flags,
    absl::Duration timeout) {
  GrodProcess p = Spawn(config_text, extra_flags);

  // grod logs "serving gRPC on ... (bound port N), metrics on ... (bound
  // port M)" once everything is up.
  const std::regex ready(
      R"(bound port (\d+)\), metrics on .*bound port (\d+))");
  bool exited = false;
  std::smatch m;
  std::string log;
  WaitFor(
      [&] {
        log = ReadFile(p.log_path_);
        if (std::regex_search(log, m, ready)) return true;
        int status;
        exited = waitpid(p.pid_, &status, WNOHANG) == p.pid_;
        return exited;
      },
      timeout, absl::Milliseconds(20));
  if (!m.empty()) {
    p.grpc_port_ = std::stoi(m[1]);
    p.metrics_port_ = std::stoi(m[2]);
    return p;
  }
  if (exited) {
    p.pid_ = -1;
    return absl::FailedPreconditionError(
        absl::StrCat("grod exited during start-up:\n", log));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("grod did not come up in time:\n", ReadFile(p.log_path_)));
}

GrodProcess::GrodProcess(GrodProcess&& o) noexcept
    : pid_(o.pid_),
      grpc_port_(o.grpc_port_),
      metrics_port_(o.metrics_port_),
      log_path_(std::move(o.log_path_)) {
  o.pid_ = -1;
}

GrodProcess::~GrodProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string GrodProcess::grpc_target() const {
  return absl::StrCat("127.0.0.1:", grpc_port_);
}

std::string GrodProcess::log() const { return ReadFile(log_path_); }

absl::StatusOr<int> GrodProcess::Stop(int signal, absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("grod is not running");
  kill(pid_, signal);
  absl::StatusOr<int> code = WaitExit(pid_, timeout);
  if (code.ok()) pid_ = -1;
  return code;
}

double MetricSum(const std::string& text, const std::string& family,
                 const std::string& label_filter) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family + "{", 0) != 0 && line.rfind(family + " ", 0) != 0) {
      continue;
    }
    if (line.find(label_filter) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

CommandResult RunCommand(const std::vector<std::string>& argv) {
  const std::string base =
      absl::StrCat(TempDir(), "/cmd_", getpid(), "_", counter++);
  CommandResult r;
  pid_t pid = fork();
  if (pid == 0) ExecInChild(argv, base + ".out", base + ".err");
  absl::StatusOr<int> code = WaitExit(pid, absl::Seconds(60));
  if (!code.ok()) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  r.exit_code = code.ok() ? *code : -1;
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

}  // namespace grod::testing
