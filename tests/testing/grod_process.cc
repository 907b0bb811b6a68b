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
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("process did not exit in time");
}

}  // namespace

std::string Runfile(const std::string& workspace_path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(dir ? dir : ".", "/grod/", workspace_path);
}

std::vector<std::string> TestEalArgs(const std::vector<std::string>& vdevs) {
  std::vector<std::string> args = {
      "-l",
      "0-1",
      "--no-huge",
      "-m",
      "256",
      "--no-pci",
      "--no-shconf",
      absl::StrCat("--file-prefix=t", getpid(), "_", counter++),
      "--no-telemetry",
      "--log-level=*:warning"};
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

absl::StatusOr<GrodProcess> GrodProcess::Start(
    const std::string& config_text, const std::vector<std::string>& extra_flags,
    absl::Duration timeout) {
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

  // grod logs "serving gRPC on ... (bound port N), metrics on ... (bound
  // port M)" once everything is up.
  const std::regex ready(
      R"(bound port (\d+)\), metrics on .*bound port (\d+))");
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::smatch m;
    const std::string log = ReadFile(p.log_path_);
    if (std::regex_search(log, m, ready)) {
      p.grpc_port_ = std::stoi(m[1]);
      p.metrics_port_ = std::stoi(m[2]);
      return p;
    }
    int status;
    if (waitpid(p.pid_, &status, WNOHANG) == p.pid_) {
      p.pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("grod exited during start-up:\n", log));
    }
    absl::SleepFor(absl::Milliseconds(50));
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

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect to port ", port, ": ", std::strerror(errno)));
  }
  const std::string req =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: localhost\r\n\r\n");
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return absl::UnavailableError("short write");
  }
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) resp.append(buf, n);
  close(fd);
  const size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) {
    return absl::InternalError("not an HTTP response: " + resp.substr(0, 200));
  }
  if (resp.find(" 200 ") > resp.find("\r\n")) {
    return absl::InternalError("HTTP error: " +
                               resp.substr(0, resp.find("\r\n")));
  }
  return resp.substr(body + 4);
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
