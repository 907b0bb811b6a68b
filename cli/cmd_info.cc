#include "cli/cmd_info.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/output.h"

namespace grod::cli {

namespace {

const char* YesNo(bool b) { return b ? "yes" : "no"; }

int RunInfo(CommandEnv& env, const ParsedArgs& args) {
  if (absl::Status s = WantArgs(args, 0, "no arguments"); !s.ok()) {
    return UsageError(env, "info", std::string(s.message()));
  }
  v1::ServiceInfo info;
  grpc::Status s =
      env.client->stub().GetInfo(env.client->Context().get(), {}, &info);
  if (!s.ok()) return env.client->Fail(s, env.err);
  if (PrintStructured(env, info)) {
    return kExitOk;
  }
  Table t({"FIELD", "VALUE"});
  t.Add({"version", info.version()});
  t.Add({"build", info.build()});
  t.Add({"dpdk", info.dpdk_version()});
  t.Add({"uptime", DurationText(info.uptime())});
  t.Add({"main lcore", absl::StrCat(info.main_lcore())});
  t.Add({"worker lcores", absl::StrJoin(info.worker_lcores(), ",")});
  t.Add({"data plane ready", YesNo(info.data_plane_ready())});
  t.Add({"tenants", absl::StrCat(info.tenant_count())});
  t.Add({"config generation", absl::StrCat(info.config_generation())});
  t.Print(env.out);
  return kExitOk;
}

std::string KindName(v1::PortKind kind) {
  switch (kind) {
    case v1::PORT_KIND_NIC:
      return "nic";
    case v1::PORT_KIND_AF_XDP:
      return "af_xdp";
    case v1::PORT_KIND_AF_PACKET:
      return "af_packet";
    case v1::PORT_KIND_VHOST_USER:
      return "vhost-user";
    case v1::PORT_KIND_TAP:
      return "tap";
    case v1::PORT_KIND_VIRTUAL:
      return "virtual";
    case v1::PORT_KIND_VNET_TAP:
      return "vnet-tap";
    default:
      return "-";
  }
}

// What a vhost-user guest negotiated: "guest:tso4,tso6,csum,mrg-rxbuf",
// "guest:none" (attached, no offloads), "detached"; for grod's tap what the
// kernel accepted: "kernel:tso4,tso6,uso,csum"; "-" for other kinds.
std::string ConsumerSummary(const v1::Port& p) {
  const bool tap = p.kind() == v1::PORT_KIND_VNET_TAP;
  if (p.kind() != v1::PORT_KIND_VHOST_USER && !tap) return "-";
  const v1::ConsumerFeatures& f = p.consumer();
  if (!f.negotiated()) return "detached";
  std::vector<std::string> have;
  if (f.tso4()) have.push_back("tso4");
  if (f.tso6()) have.push_back("tso6");
  if (f.uso()) have.push_back("uso");
  if (f.checksum()) have.push_back("csum");
  if (f.mergeable_rx_buffers()) have.push_back("mrg-rxbuf");
  return absl::StrCat(tap ? "kernel:" : "guest:",
                      have.empty() ? "none" : absl::StrJoin(have, ","));
}

int RunPorts(CommandEnv& env, const ParsedArgs& args) {
  if (absl::Status s = WantArgs(args, 0, "no arguments"); !s.ok()) {
    return UsageError(env, "ports", std::string(s.message()));
  }
  v1::ListPortsResponse resp;
  grpc::Status s =
      env.client->stub().ListPorts(env.client->Context().get(), {}, &resp);
  if (!s.ok()) return env.client->Fail(s, env.err);
  if (PrintStructured(env, resp)) {
    return kExitOk;
  }
  Table t({"ID", "NAME", "KIND", "DRIVER", "MAC", "LINK", "SPEED", "MTU",
           "PEER", "RXQ", "TXQ", "OFFLOADS", "CONSUMER"});
  for (const v1::Port& p : resp.ports()) {
    const v1::PortCapabilities& c = p.capabilities();
    std::vector<std::string> caps;
    if (c.tcp_tso()) {
      caps.push_back(c.tso_max_bytes() > 65535
                         ? absl::StrCat("tcp-tso(big:", c.tso_max_bytes(), ")")
                         : std::string("tcp-tso"));
    }
    if (c.udp_tso()) caps.push_back("udp-tso");
    if (c.vxlan_tso()) caps.push_back("vxlan-tso");
    if (c.ipv4_checksum()) caps.push_back("ipv4-csum");
    if (c.tcp_checksum()) caps.push_back("tcp-csum");
    if (c.udp_checksum()) caps.push_back("udp-csum");
    if (c.outer_ipv4_checksum()) caps.push_back("outer-ipv4-csum");
    if (c.outer_udp_checksum()) caps.push_back("outer-udp-csum");
    if (c.multi_segment_tx()) {
      // The PMD's mbufs per TSO packet / per frame, when it states any.
      caps.push_back(c.tx_max_segments() > 0 && c.tx_max_segments() < 65535
                         ? absl::StrCat("multi-seg(", c.tx_max_segments(), "/",
                                        c.tx_max_mtu_segments(), ")")
                         : std::string("multi-seg"));
    }
    // Not an offload but what egress does for want of one: MERGE traffic
    // it cannot send whole is merged and cut by software GSO (not linked).
    if (c.segment_merged_in_software()) caps.push_back("merge-sw-gso");
    t.Add({absl::StrCat(p.port_id()), p.name(), KindName(p.kind()), p.driver(),
           p.mac_address(), p.link_up() ? "up" : "down",
           absl::StrCat(p.link_speed_mbps(), "M"), absl::StrCat(p.mtu()),
           absl::StrCat(p.peer_port_id()), absl::StrCat(p.rx_queues()),
           absl::StrCat(p.tx_queues()),
           caps.empty() ? "-" : absl::StrJoin(caps, ","), ConsumerSummary(p)});
  }
  t.Print(env.out);
  return kExitOk;
}

}  // namespace

Command InfoCommand() {
  return {
      "info\n\nVersion, build, uptime, lcores and readiness of grod.\n\n"
      "Example:\n  grocli info -o json\n",
      {},
      RunInfo};
}

Command PortsCommand() {
  return {
      "ports\n\nDPDK ports with link state, offload capabilities and "
      "forwarding peer.\n\nExample:\n  grocli ports\n",
      {},
      RunPorts};
}

}  // namespace grod::cli
