#include "metrics/telemetry.h"

#include <rte_telemetry.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace grod::metrics {
namespace {

// DPDK's telemetry_cb has no user pointer, so the data plane is global.
// Readers (telemetry thread) hold the lock for the whole command so that
// detaching waits for them.
absl::Mutex g_mu;
const DataPlane* g_dp ABSL_GUARDED_BY(g_mu) = nullptr;

// Dict keys may hold only alphanumerics, '_' and '/', up to
// RTE_TEL_MAX_STRING_LEN; reasons come from the data plane's enums but are
// sanitised anyway so a new reason never makes a whole reply fail.
std::string Key(const std::string& prefix, const std::string& name) {
  std::string key = prefix;
  for (char c : name) {
    key.push_back(isalnum(static_cast<unsigned char>(c)) ? c : '_');
  }
  if (key.size() >= RTE_TEL_MAX_STRING_LEN) {
    key.resize(RTE_TEL_MAX_STRING_LEN - 1);
  }
  return key;
}

int Tenants(const char*, const char*, rte_tel_data* d) {
  absl::ReaderMutexLock lock(&g_mu);
  if (g_dp == nullptr) return -ENODEV;
  rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
  for (const TenantCounters& t : g_dp->Stats().tenants) {
    rte_tel_data_add_array_string(d, t.tenant.c_str());
  }
  return 0;
}

int Tenant(const char*, const char* params, rte_tel_data* d) {
  if (params == nullptr || *params == '\0') return -EINVAL;
  absl::ReaderMutexLock lock(&g_mu);
  if (g_dp == nullptr) return -ENODEV;
  for (const TenantCounters& t : g_dp->Stats().tenants) {
    if (t.tenant != params) continue;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "tenant", t.tenant.c_str());
    const std::pair<const char*, uint64_t> fields[] = {
        {"packets_in", t.packets_in},
        {"bytes_in", t.bytes_in},
        {"packets_out", t.packets_out},
        {"merged_packets_out", t.merged_packets_out},
        {"list_packets_out", t.list_packets_out},
        {"single_packets_out", t.single_packets_out},
        {"bypass_packets", t.bypass_packets},
        {"segments_merged", t.segments_merged},
        {"segments_listed", t.segments_listed},
        {"merge_as_list_packets", t.merge_as_list_packets},
        {"held_flows", t.held_flows},
        {"held_packets", t.held_packets},
    };
    for (const auto& [name, value] : fields) {
      rte_tel_data_add_dict_u64(d, name, value);
    }
    for (const auto& [reason, n] : t.flushes) {
      rte_tel_data_add_dict_u64(d, Key("flushes/", reason).c_str(), n);
    }
    for (const auto& [reason, n] : t.passthrough) {
      rte_tel_data_add_dict_u64(d, Key("passthrough/", reason).c_str(), n);
    }
    rte_tel_data* buckets = rte_tel_data_alloc();
    if (buckets != nullptr) {
      rte_tel_data_start_array(buckets, RTE_TEL_U64_VAL);
      for (uint64_t n : t.segments_per_output) {
        rte_tel_data_add_array_u64(buckets, n);
      }
      // keep=0: telemetry frees the container after sending.
      rte_tel_data_add_dict_container(d, "segments_per_output", buckets, 0);
    }
    return 0;
  }
  return -ENOENT;
}

struct PortField {
  const char* name;
  uint64_t PortCounters::*field;
};
constexpr PortField kPortFields[] = {
    {"rx_packets", &PortCounters::rx_packets},
    {"rx_bytes", &PortCounters::rx_bytes},
    {"rx_missed", &PortCounters::rx_missed},
    {"tx_packets", &PortCounters::tx_packets},
    {"tx_bytes", &PortCounters::tx_bytes},
    {"tx_dropped", &PortCounters::tx_dropped},
    {"gso_segments", &PortCounters::gso_segments},
    {"ip_fragments", &PortCounters::ip_fragments},
};

// Adds `fill(array)` under `name`; a failed allocation just omits the column.
template <typename Fill>
void AddColumn(rte_tel_data* d, const char* name, rte_tel_value_type type,
               Fill fill) {
  rte_tel_data* column = rte_tel_data_alloc();
  if (column == nullptr) return;
  rte_tel_data_start_array(column, type);
  fill(column);
  rte_tel_data_add_dict_container(d, name, column, 0);
}

int Ports(const char*, const char*, rte_tel_data* d) {
  absl::ReaderMutexLock lock(&g_mu);
  if (g_dp == nullptr) return -ENODEV;
  const std::vector<PortCounters> ports = g_dp->Stats().ports;
  rte_tel_data_start_dict(d);
  AddColumn(d, "port_id", RTE_TEL_U64_VAL, [&](rte_tel_data* c) {
    for (const PortCounters& p : ports)
      rte_tel_data_add_array_u64(c, p.port_id);
  });
  AddColumn(d, "name", RTE_TEL_STRING_VAL, [&](rte_tel_data* c) {
    for (const PortCounters& p : ports) {
      rte_tel_data_add_array_string(c, p.name.c_str());
    }
  });
  for (const PortField& f : kPortFields) {
    AddColumn(d, f.name, RTE_TEL_U64_VAL, [&](rte_tel_data* c) {
      for (const PortCounters& p : ports)
        rte_tel_data_add_array_u64(c, p.*f.field);
    });
  }
  return 0;
}

int Port(const char*, const char* params, rte_tel_data* d) {
  if (params == nullptr || *params == '\0') return -EINVAL;
  char* end = nullptr;
  const unsigned long id = std::strtoul(params, &end, 10);
  if (*end != '\0') return -EINVAL;
  absl::ReaderMutexLock lock(&g_mu);
  if (g_dp == nullptr) return -ENODEV;
  for (const PortCounters& p : g_dp->Stats().ports) {
    if (p.port_id != id) continue;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "port_id", p.port_id);
    rte_tel_data_add_dict_string(d, "name", p.name.c_str());
    for (const PortField& f : kPortFields) {
      rte_tel_data_add_dict_u64(d, f.name, p.*f.field);
    }
    return 0;
  }
  return -ENOENT;
}

absl::Status RegisterCommandsOnce() {
  static const int rc = [] {
    struct Cmd {
      const char* name;
      telemetry_cb fn;
      const char* help;
    };
    const Cmd cmds[] = {
        {"/grod/tenants", Tenants, "Returns the grod tenant names."},
        {"/grod/tenant", Tenant,
         "Returns one tenant's GRO counters. Parameter: tenant name."},
        {"/grod/ports", Ports,
         "Returns grod port counters, one array per counter in port order."},
        {"/grod/port", Port,
         "Returns one port's counters. Parameter: port id."},
    };
    for (const Cmd& c : cmds) {
      if (int err = rte_telemetry_register_cmd(c.name, c.fn, c.help)) {
        return err;
      }
    }
    return 0;
  }();
  if (rc != 0) {
    return absl::InternalError("rte_telemetry_register_cmd failed: " +
                               std::to_string(rc));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TelemetryRegistration>> RegisterTelemetry(
    const DataPlane* dp) {
  if (dp == nullptr) return absl::InvalidArgumentError("no data plane");
  if (absl::Status s = RegisterCommandsOnce(); !s.ok()) return s;
  absl::MutexLock lock(&g_mu);
  if (g_dp != nullptr) {
    return absl::AlreadyExistsError("grod telemetry already registered");
  }
  g_dp = dp;
  return std::unique_ptr<TelemetryRegistration>(new TelemetryRegistration());
}

TelemetryRegistration::~TelemetryRegistration() {
  absl::MutexLock lock(&g_mu);
  g_dp = nullptr;
}

}  // namespace grod::metrics
