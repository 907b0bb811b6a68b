// grod's configuration: a grod.v1.GrodConfig text proto, command-line
// overrides, validation, and the embedded default used when no file is given.
#ifndef GROD_GROD_CONFIG_H_
#define GROD_GROD_CONFIG_H_

#include <cstdlib>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/runtime/runtime_config.h"
#include "proto/grod/v1/config.pb.h"

namespace grod {

inline constexpr char kDefaultGrpcListen[] = "127.0.0.1:50051";
inline constexpr char kDefaultMetricsListen[] = "127.0.0.1:9464";

// Parses a text-format GrodConfig; errors name the file, line and column.
absl::StatusOr<v1::GrodConfig> ParseConfigText(const std::string& text,
                                               const std::string& origin);
// Parses a GrodConfig in protobuf's JSON mapping (field names as in the
// .proto or lowerCamelCase, enum names, "0.000100s" durations); errors name
// the file and the field.
absl::StatusOr<v1::GrodConfig> ParseConfigJson(const std::string& json,
                                               const std::string& origin);
// YAML carrying the same as the JSON form (common/yaml_to_json.h).
absl::StatusOr<v1::GrodConfig> ParseConfigYaml(const std::string& yaml,
                                               const std::string& origin);
// Reads a config file in the format its extension names: .json, .yaml or
// .yml; protobuf text format for .textproto, .txtpb and any other name.
absl::StatusOr<v1::GrodConfig> LoadConfigFile(const std::string& path);

// Replaces every ${NAME} in eal_args with the environment variable NAME
// (Kubernetes device plugins pass the allocated PCI addresses as
// $PCIDEVICE_*). An unset variable, or "${" without a valid name and "}",
// is an error naming the argument and the variable. A "$" not followed by
// "{" is kept. `getenv` is for tests.
absl::Status ExpandEalArgs(
    v1::GrodConfig* config,
    const std::function<const char*(const char*)>& getenv = ::getenv);

// Fills unset fields with defaults. With neither eal_args nor ports, selects
// the embedded default: two virtual ports (net_pcap replaying `sample_pcap`
// forever into net_null), no hugepages, no PCI, main + one worker lcore, and
// (unless the config has tenants) a "demo" tenant on port 0: MERGE, with
// 2001:db8::/32 LISTed by a route hint.
void ApplyDefaults(v1::GrodConfig* config, const std::string& sample_pcap);

// True when ApplyDefaults would choose the embedded virtual-device setup.
bool UsesEmbeddedDefault(const v1::GrodConfig& config);

// Checks every field; the error names the field and says what is allowed.
// Ports without eal_args are an error (not a silent switch to the embedded
// default's virtual devices).
absl::Status ValidateConfig(const v1::GrodConfig& config);

// security.grpc_socket_mode as a number (default 0660); error names it.
absl::StatusOr<uint32_t> SocketMode(const v1::GrodConfig& config);

// The data-plane view of a validated config.
dataplane::RuntimeConfig ToRuntimeConfig(const v1::GrodConfig& config);

}  // namespace grod

#endif  // GROD_GROD_CONFIG_H_
