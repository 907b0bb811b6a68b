#include "controlplane/convert.h"

namespace grod::controlplane {

// The API's enums and the data plane's: GroType N is bit N-1 of GroTypeBit
// (ToTenantSpec), and GroMode has the same numbers on both sides.
static_assert((1u << (v1::GRO_TYPE_TCP4 - 1)) == kGroTcp4 &&
              (1u << (v1::GRO_TYPE_TCP6 - 1)) == kGroTcp6 &&
              (1u << (v1::GRO_TYPE_UDP4 - 1)) == kGroUdp4 &&
              (1u << (v1::GRO_TYPE_UDP6 - 1)) == kGroUdp6 &&
              (1u << (v1::GRO_TYPE_IPV4_FRAG - 1)) == kGroIpv4Frag &&
              (1u << (v1::GRO_TYPE_VXLAN - 1)) == kGroVxlan &&
              (1u << v1::GroType_MAX) - 1 == kGroAll);
static_assert(v1::GRO_MODE_MERGE == static_cast<int>(GroMode::kMerge) &&
              v1::GRO_MODE_LIST == static_cast<int>(GroMode::kList) &&
              v1::GRO_MODE_BYPASS == static_cast<int>(GroMode::kBypass));

GroMode ToGroMode(v1::GroMode mode) {
  switch (mode) {
    case v1::GRO_MODE_LIST:
      return GroMode::kList;
    case v1::GRO_MODE_BYPASS:
      return GroMode::kBypass;
    default:
      return GroMode::kMerge;
  }
}

v1::GroMode ToProto(GroMode mode) {
  switch (mode) {
    case GroMode::kList:
      return v1::GRO_MODE_LIST;
    case GroMode::kBypass:
      return v1::GRO_MODE_BYPASS;
    case GroMode::kMerge:
      break;
  }
  return v1::GRO_MODE_MERGE;
}

FlushPolicy ToFlushPolicy(const v1::FlushPolicy& policy) {
  FlushPolicy out;
  switch (policy.kind()) {
    case v1::FLUSH_KIND_TIMEOUT:
      out.kind = FlushKind::kTimeout;
      break;
    case v1::FLUSH_KIND_ADAPTIVE:
      out.kind = FlushKind::kAdaptive;
      break;
    default:
      out.kind = FlushKind::kPerBurst;
      break;
  }
  if (out.kind != FlushKind::kPerBurst) {
    out.timeout_ns =
        static_cast<uint64_t>(policy.timeout().seconds()) * 1'000'000'000 +
        static_cast<uint64_t>(policy.timeout().nanos());
  }
  out.max_merged_bytes = policy.max_merged_bytes() == 0
                             ? kMaxMergedBytes
                             : policy.max_merged_bytes();
  out.max_segments =
      policy.max_segments() == 0 ? kMaxSegments : policy.max_segments();
  return out;
}

TenantSpec ToTenantSpec(const v1::Tenant& tenant) {
  TenantSpec spec;
  spec.name = tenant.name();
  for (const v1::TrafficSelector& s : tenant.selectors()) {
    TrafficSelector sel;
    if (s.has_port_id()) sel.port_id = static_cast<uint16_t>(s.port_id());
    if (s.has_vlan_id()) sel.vlan_id = static_cast<uint16_t>(s.vlan_id());
    if (s.has_vni()) sel.vni = s.vni();
    spec.selectors.push_back(sel);
  }
  if (tenant.quotas().max_flows() != 0) {
    spec.max_flows = tenant.quotas().max_flows();
  }
  if (tenant.quotas().max_held_packets() != 0) {
    spec.max_held_packets = tenant.quotas().max_held_packets();
  }
  if (tenant.gro_types_size() > 0) {
    spec.gro_types = 0;
    for (int t : tenant.gro_types()) {
      // GroType values 1..6 map to bits 0..5 of GroTypeBit.
      spec.gro_types |= 1u << (t - 1);
    }
  }
  spec.default_mode = ToGroMode(tenant.default_mode());
  spec.flush = ToFlushPolicy(tenant.flush_policy());
  return spec;
}

v1::PortKind ToProto(PortKind kind) {
  switch (kind) {
    case PortKind::kNic:
      return v1::PORT_KIND_NIC;
    case PortKind::kAfXdp:
      return v1::PORT_KIND_AF_XDP;
    case PortKind::kAfPacket:
      return v1::PORT_KIND_AF_PACKET;
    case PortKind::kVhostUser:
      return v1::PORT_KIND_VHOST_USER;
    case PortKind::kTap:
      return v1::PORT_KIND_TAP;
    case PortKind::kVirtual:
      return v1::PORT_KIND_VIRTUAL;
    case PortKind::kVnetTap:
      return v1::PORT_KIND_VNET_TAP;
  }
  return v1::PORT_KIND_UNSPECIFIED;
}

v1::Port ToProto(const PortInfo& port) {
  v1::Port out;
  out.set_port_id(port.port_id);
  out.set_name(port.name);
  out.set_driver(port.driver);
  out.set_mac_address(port.mac_address);
  out.set_rx_queues(port.rx_queues);
  out.set_tx_queues(port.tx_queues);
  v1::PortCapabilities* c = out.mutable_capabilities();
  c->set_tcp_tso(port.capabilities.tcp_tso);
  c->set_udp_tso(port.capabilities.udp_tso);
  c->set_ipv4_checksum(port.capabilities.ipv4_checksum);
  c->set_tcp_checksum(port.capabilities.tcp_checksum);
  c->set_udp_checksum(port.capabilities.udp_checksum);
  c->set_multi_segment_tx(port.capabilities.multi_segment_tx);
  c->set_vxlan_tso(port.capabilities.vxlan_tso);
  c->set_tso_max_bytes(port.capabilities.tso_max_bytes);
  c->set_outer_ipv4_checksum(port.capabilities.outer_ipv4_checksum);
  c->set_outer_udp_checksum(port.capabilities.outer_udp_checksum);
  c->set_mtu(port.capabilities.mtu);
  c->set_tx_max_segments(port.capabilities.tx_max_segments);
  c->set_tx_max_mtu_segments(port.capabilities.tx_max_mtu_segments);
  c->set_tso_min_segsz(port.capabilities.tso_min_segsz);
  c->set_segment_merged_in_software(
      port.capabilities.segment_merged_in_software);
  out.set_peer_port_id(port.peer_port_id);
  out.set_link_up(port.link_up);
  out.set_link_speed_mbps(port.link_speed_mbps);
  out.set_mtu(port.mtu);
  out.set_kind(ToProto(port.kind));
  v1::ConsumerFeatures* f = out.mutable_consumer();
  f->set_negotiated(port.consumer.negotiated);
  f->set_tso4(port.consumer.tso4);
  f->set_tso6(port.consumer.tso6);
  f->set_uso(port.consumer.uso);
  f->set_checksum(port.consumer.checksum);
  f->set_mergeable_rx_buffers(port.consumer.mergeable_rx_buffers);
  return out;
}

v1::TenantStats ToProto(const TenantCounters& c) {
  v1::TenantStats out;
  out.set_tenant(c.tenant);
  out.set_packets_in(c.packets_in);
  out.set_bytes_in(c.bytes_in);
  out.set_packets_out(c.packets_out);
  out.set_merged_packets_out(c.merged_packets_out);
  out.set_list_packets_out(c.list_packets_out);
  out.set_segments_merged(c.segments_merged);
  out.set_segments_listed(c.segments_listed);
  out.set_bypass_packets(c.bypass_packets);
  out.set_merge_as_list_packets(c.merge_as_list_packets);
  out.set_held_flows(c.held_flows);
  out.set_held_packets(c.held_packets);
  for (const auto& [reason, n] : c.passthrough) {
    (*out.mutable_passthrough())[reason] = n;
  }
  for (const auto& [reason, n] : c.flushes)
    (*out.mutable_flushes())[reason] = n;
  return out;
}

v1::PortStats ToProto(const PortCounters& c) {
  v1::PortStats out;
  out.set_port_id(c.port_id);
  out.set_name(c.name);
  out.set_rx_packets(c.rx_packets);
  out.set_rx_bytes(c.rx_bytes);
  out.set_tx_packets(c.tx_packets);
  out.set_tx_bytes(c.tx_bytes);
  out.set_tx_dropped(c.tx_dropped);
  out.set_rx_missed(c.rx_missed);
  out.set_gso_segments(c.gso_segments);
  out.set_ip_fragments(c.ip_fragments);
  for (const auto& [reason, n] : c.tx_drops)
    (*out.mutable_tx_drops())[reason] = n;
  return out;
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  google::protobuf::Timestamp out;
  const int64_t ns = absl::ToUnixNanos(t);
  out.set_seconds(ns / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  if (out.nanos() < 0) {
    out.set_seconds(out.seconds() - 1);
    out.set_nanos(out.nanos() + 1'000'000'000);
  }
  return out;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace grod::controlplane
