// ValidateConfig(): every check of a loaded grod config, one step per
// part of it, each error naming the field (ports[1].mtu: ...).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controlplane/api_limits.h"
#include "controlplane/auth.h"
#include "controlplane/limits.h"
#include "grod/config.h"

namespace grod {
namespace {

// "unix:/abs/path" for the gRPC listener (not for metrics).
absl::Status CheckUnixListen(const std::string& field,
                             const std::string& addr) {
  std::string path = addr.substr(5);
  if (path.rfind("//", 0) == 0) path = path.substr(2);
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", addr,
                     "' needs an absolute path (unix:/run/grod/grod.sock)"));
  }
  // sockaddr_un holds 108 bytes with the terminating NUL.
  if (path.size() > 107) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the socket path is ", path.size(),
                     " bytes; unix sockets allow at most 107"));
  }
  return absl::OkStatus();
}

absl::Status CheckListen(const std::string& field, const std::string& addr) {
  const size_t colon = addr.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(addr.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", addr,
                     "' is not host:port (e.g. 127.0.0.1:50051 or [::1]:0)"));
  }
  return absl::OkStatus();
}

absl::Status CheckListeners(const v1::GrodConfig& config) {
  const bool unix_listen = config.grpc_listen().rfind("unix:", 0) == 0;
  if (absl::Status s =
          unix_listen ? CheckUnixListen("grpc_listen", config.grpc_listen())
                      : CheckListen("grpc_listen", config.grpc_listen());
      !s.ok()) {
    return s;
  }
  return CheckListen("metrics_listen", config.metrics_listen());
}

// vxlan_port, mbufs, idle_sleep_us.
absl::Status CheckScalars(const v1::GrodConfig& config) {
  if (config.vxlan_port() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vxlan_port: ", config.vxlan_port(), " is not a UDP port (1..65535)"));
  }
  if (config.mbufs() < 1024 || config.mbufs() > (1u << 24)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mbufs: ", config.mbufs(), " must be between 1024 and 16777216"));
  }
  if (config.idle_sleep_us() > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat("idle_sleep_us: ", config.idle_sleep_us(),
                     " is over 100000 (100 ms), which would stall RX"));
  }
  return absl::OkStatus();
}

// A tap port's interface name and GSO size.  `field`: "ports[i]".
absl::Status CheckTap(const v1::PortConfig& p, const std::string& field) {
  const std::string& ifname =
      p.tap().interface().empty() ? p.device() : p.tap().interface();
  if (ifname.size() > 15 ||
      ifname.find_first_of("/: \t\n") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".tap.interface: '", ifname,
        "' is not a Linux interface name (at most 15 bytes, no '/', ':' "
        "or spaces; empty = the device name)"));
  }
  if (p.tso_max_bytes() > controlplane::kMaxMergedBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".tso_max_bytes: a tap takes GSO packets of at most ",
        controlplane::kMaxMergedBytes, " bytes"));
  }
  return absl::OkStatus();
}

// ports[i] on its own; `devices`: the devices of ports[0..i).
absl::Status CheckPort(const v1::PortConfig& p, int i,
                       const std::vector<std::string>& devices) {
  const std::string field = absl::StrCat("ports[", i, "]");
  if (p.device().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".device: must name an EAL device"));
  }
  if (std::find(devices.begin(), devices.end(), p.device()) != devices.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".device: '", p.device(), "' is listed twice"));
  }
  for (auto [name, n] : {std::pair{"rx_descriptors", p.rx_descriptors()},
                         std::pair{"tx_descriptors", p.tx_descriptors()}}) {
    if (n < 64 || n > 32768) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".", name, ": ", n, " must be between 64 and 32768"));
    }
  }
  if (p.mtu() != 0 && (p.mtu() < 576 || p.mtu() > 65535)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".mtu: ", p.mtu(),
                     " must be between 576 and 65535 (0 = the device's "
                     "default)"));
  }
  if (!v1::PortConfig::MergedWithoutTso_IsValid(p.merged_without_tso())) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".merged_without_tso: ", p.merged_without_tso(),
        " is not LINK (0, the default) or SEGMENT_IN_SOFTWARE (1)"));
  }
  if (p.has_tap()) {
    if (absl::Status s = CheckTap(p, field); !s.ok()) return s;
  }
  if (p.tso_max_bytes() > controlplane::kMaxBigMergedBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".tso_max_bytes: ", p.tso_max_bytes(),
                     " must be at most ", controlplane::kMaxBigMergedBytes,
                     " (0 = ", controlplane::kMaxMergedBytes, ")"));
  }
  return absl::OkStatus();
}

// Every port, then every peer naming a listed device, then the EAL
// arguments that create the devices.
absl::Status CheckPorts(const v1::GrodConfig& config) {
  std::vector<std::string> devices;
  for (int i = 0; i < config.ports_size(); ++i) {
    if (absl::Status s = CheckPort(config.ports(i), i, devices); !s.ok()) {
      return s;
    }
    devices.push_back(config.ports(i).device());
  }
  for (int i = 0; i < config.ports_size(); ++i) {
    const std::string& peer = config.ports(i).peer();
    if (peer.empty()) continue;
    if (std::find(devices.begin(), devices.end(), peer) == devices.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ports[", i, "].peer: '", peer,
                       "' is not the device of any entry in ports"));
    }
  }
  if (config.eal_args_size() == 0 && config.ports_size() > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "eal_args: empty, but ports names ", config.ports_size(),
        " device(s) (ports[0].device: '", config.ports(0).device(),
        "'); give the EAL arguments that make them (e.g. \"-a\", \"",
        config.ports(0).device(),
        "\"), or drop ports to run the embedded demo"));
  }
  return absl::OkStatus();
}

// TLS files, the gRPC socket's mode and group.
absl::Status CheckSecurity(const v1::GrodConfig& config) {
  const v1::SecurityConfig& sec = config.security();
  if (sec.tls_cert_file().empty() != sec.tls_key_file().empty()) {
    return absl::InvalidArgumentError(
        "security: tls_cert_file and tls_key_file must be set together");
  }
  if (!sec.tls_client_ca_file().empty() && sec.tls_cert_file().empty()) {
    return absl::InvalidArgumentError(
        "security.tls_client_ca_file: mutual TLS needs tls_cert_file and "
        "tls_key_file too");
  }
  if (absl::StatusOr<uint32_t> mode = SocketMode(config); !mode.ok()) {
    return mode.status();
  }
  const bool unix_listen = config.grpc_listen().rfind("unix:", 0) == 0;
  if (!unix_listen &&
      (!sec.grpc_socket_mode().empty() || !sec.grpc_socket_group().empty())) {
    return absl::InvalidArgumentError(
        "security.grpc_socket_mode/grpc_socket_group: only for a unix: "
        "grpc_listen address");
  }
  return absl::OkStatus();
}

absl::Status CheckTenants(const v1::GrodConfig& config) {
  for (int i = 0; i < config.tenants_size(); ++i) {
    if (config.tenants(i).name() == controlplane::kReservedTenantName) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tenants[", i,
          "].name: \"admin\" is reserved for the admin credential; choose "
          "another name"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateConfig(const v1::GrodConfig& config) {
  // In the order a reader of the config file meets the fields; the first
  // error is returned.
  for (auto check : {CheckListeners, CheckScalars, CheckPorts}) {
    if (absl::Status s = check(config); !s.ok()) return s;
  }
  if (absl::StatusOr<controlplane::Limits> l =
          controlplane::ResolveLimits(config.limits());
      !l.ok()) {
    return l.status();
  }
  for (auto check : {CheckSecurity, CheckTenants}) {
    if (absl::Status s = check(config); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace grod
