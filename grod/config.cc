#include "grod/config.h"

#include <sched.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/yaml_to_json.h"
#include "controlplane/api_limits.h"
#include "controlplane/limits.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace grod {
namespace {

class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) {
      // Lines and columns are zero-based in protobuf's tokenizer.
      first_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ",
                            message);
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// Two CPUs this process may run on (the same one twice on a 1-CPU box), so
// the embedded default works on laptops, CI runners and containers alike.
std::pair<int, int> TwoAllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return {cpus[0], cpus.size() > 1 ? cpus[1] : cpus[0]};
}

}  // namespace

absl::StatusOr<v1::GrodConfig> ParseConfigText(const std::string& text,
                                               const std::string& origin) {
  v1::GrodConfig config;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": ", errors.first(),
                     " (the format is grod.v1.GrodConfig in protobuf text "
                     "format, see deploy/grod.textproto; a file named "
                     "*.json or *.yaml/*.yml is read as JSON or YAML)"));
  }
  return config;
}

absl::StatusOr<v1::GrodConfig> ParseConfigJson(const std::string& json,
                                               const std::string& origin) {
  v1::GrodConfig config;
  const google::protobuf::util::Status s =
      google::protobuf::util::JsonStringToMessage(json, &config);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": ", s.message().as_string(),
                     " (the format is grod.v1.GrodConfig in protobuf's JSON "
                     "mapping; see docs/OPERATIONS.md, \"Config file "
                     "formats\")"));
  }
  return config;
}

absl::StatusOr<v1::GrodConfig> ParseConfigYaml(const std::string& yaml,
                                               const std::string& origin) {
  YamlToJsonOptions options;
  options.empty_is_empty_object = true;  // the embedded default
  absl::StatusOr<std::string> json = YamlToJson(yaml, options);
  if (!json.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": ", json.status().message()));
  }
  return ParseConfigJson(*json, origin);
}

absl::StatusOr<v1::GrodConfig> LoadConfigFile(const std::string& path) {
  using Parser = absl::StatusOr<v1::GrodConfig> (*)(const std::string&,
                                                    const std::string&);
  // Text format for .textproto, .txtpb and anything else (as before JSON and
  // YAML were read).
  Parser parse = ParseConfigText;
  for (const auto& [ext, p] :
       {std::pair<const char*, Parser>{".json", ParseConfigJson},
        {".yaml", ParseConfigYaml},
        {".yml", ParseConfigYaml}}) {
    if (absl::EndsWithIgnoreCase(path, ext)) parse = p;
  }
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read config file '", path,
                                            "': ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

absl::Status ExpandEalArgs(
    v1::GrodConfig* config,
    const std::function<const char*(const char*)>& getenv) {
  for (int i = 0; i < config->eal_args_size(); ++i) {
    const std::string& arg = config->eal_args(i);
    std::string out;
    for (size_t pos = 0; pos < arg.size();) {
      const size_t start = arg.find("${", pos);
      if (start == std::string::npos) {
        out.append(arg, pos);
        break;
      }
      out.append(arg, pos, start - pos);
      const size_t end = arg.find('}', start);
      const std::string name = end == std::string::npos
                                   ? ""
                                   : arg.substr(start + 2, end - start - 2);
      const bool valid = !name.empty() && !absl::ascii_isdigit(name[0]) &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return absl::ascii_isalnum(c) || c == '_';
                         });
      if (!valid) {
        return absl::InvalidArgumentError(absl::StrCat(
            "eal_args[", i, "]: '", arg,
            "': write an environment variable as ${NAME} (letters, digits, "
            "_)"));
      }
      const char* value = getenv(name.c_str());
      if (value == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("eal_args[", i, "]: '", arg, "' uses ${", name,
                         "}, but ", name, " is not set in grod's environment"));
      }
      out.append(value);
      pos = end + 1;
    }
    config->set_eal_args(i, out);
  }
  return absl::OkStatus();
}

bool UsesEmbeddedDefault(const v1::GrodConfig& config) {
  return config.eal_args_size() == 0 && config.ports_size() == 0;
}

void ApplyDefaults(v1::GrodConfig* config, const std::string& sample_pcap) {
  if (UsesEmbeddedDefault(*config)) {
    auto [main_cpu, worker_cpu] = TwoAllowedCpus();
    for (const std::string& arg : std::vector<std::string>{
             absl::StrCat("--lcores=0@", main_cpu, ",1@", worker_cpu),
             "--no-huge", "-m", "512", "--no-pci", "--file-prefix=grod",
             absl::StrCat("--vdev=net_pcap0,rx_pcap=", sample_pcap,
                          ",infinite_rx=1"),
             "--vdev=net_null0,no-rx=1", "--log-level=*:notice"}) {
      config->add_eal_args(arg);
    }
    if (config->tenants_size() == 0) {
      // A demo tenant, so the default shows both modes at work: the
      // capture's IPv6 flows are LISTed (route hint), the rest MERGEd.
      constexpr char kDemo[] = R"pb(
        tenants {
          name: "demo"
          selectors { port_id: 0 }
          default_mode: GRO_MODE_MERGE
          flush_policy {
            kind: FLUSH_KIND_ADAPTIVE
            timeout { nanos: 100000 }
          }
        }
        route_hints {
          tenant: "demo"
          hints { prefix: "2001:db8::/32" mode: GRO_MODE_LIST }
        }
      )pb";
      google::protobuf::TextFormat::MergeFromString(kDemo, config);
    }
  }
  if (config->grpc_listen().empty())
    config->set_grpc_listen(kDefaultGrpcListen);
  if (config->metrics_listen().empty()) {
    config->set_metrics_listen(kDefaultMetricsListen);
  }
  if (config->mbufs() == 0) config->set_mbufs(16383);
  if (config->vxlan_port() == 0) config->set_vxlan_port(4789);
  for (v1::PortConfig& port : *config->mutable_ports()) {
    if (port.rx_descriptors() == 0) port.set_rx_descriptors(1024);
    if (port.tx_descriptors() == 0) port.set_tx_descriptors(1024);
  }
}

absl::StatusOr<uint32_t> SocketMode(const v1::GrodConfig& config) {
  const std::string& text = config.security().grpc_socket_mode();
  if (text.empty()) return 0660;
  uint32_t mode = 0;
  bool ok = text.size() <= 4;
  for (char c : text) {
    ok = ok && c >= '0' && c <= '7';
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (!ok || mode > 0777) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.grpc_socket_mode: '", text,
                     "' is not an octal permission mode such as \"0660\""));
  }
  return mode;
}

dataplane::RuntimeConfig ToRuntimeConfig(const v1::GrodConfig& config) {
  dataplane::RuntimeConfig rc;
  rc.eal_args.assign(config.eal_args().begin(), config.eal_args().end());
  for (const v1::PortConfig& p : config.ports()) {
    dataplane::PortSpec spec;
    spec.device = p.device();
    spec.peer = p.peer();
    spec.rx_descriptors = p.rx_descriptors();
    spec.tx_descriptors = p.tx_descriptors();
    spec.tso_max_bytes = p.tso_max_bytes() == 0 ? controlplane::kMaxMergedBytes
                                                : p.tso_max_bytes();
    spec.mtu = p.mtu();
    spec.segment_merged_in_software =
        p.merged_without_tso() == v1::PortConfig::SEGMENT_IN_SOFTWARE;
    if (p.has_tap()) {
      spec.tap_interface =
          p.tap().interface().empty() ? p.device() : p.tap().interface();
    }
    rc.ports.push_back(spec);
  }
  rc.mbufs = config.mbufs();
  rc.vxlan_port = config.vxlan_port();
  rc.idle_sleep_us = config.idle_sleep_us();
  rc.verify_checksums = !config.trust_unverified_checksums();
  return rc;
}

}  // namespace grod
