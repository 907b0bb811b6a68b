#include "dataplane/runtime/port_kind.h"

#include <rte_eth_vhost.h>
#include <rte_vhost.h>

#include <initializer_list>

namespace grod::dataplane {
namespace {

// virtio-net feature bits (virtio 1.2, 5.1.3). <linux/virtio_net.h> is not
// valid C++ (a member named "class") and predates USO.
constexpr int kGuestCsum = 1;
constexpr int kGuestTso4 = 7;
constexpr int kGuestTso6 = 8;
constexpr int kGuestUfo = 10;
constexpr int kMrgRxbuf = 15;
constexpr int kGuestUso4 = 54;
constexpr int kGuestUso6 = 55;

bool Has(uint64_t features, int bit) { return (features >> bit) & 1; }

}  // namespace

PortKind PortKindOf(std::string_view driver) {
  if (driver == "net_af_xdp") return PortKind::kAfXdp;
  if (driver == "net_af_packet") return PortKind::kAfPacket;
  if (driver == "net_vhost") return PortKind::kVhostUser;
  if (driver == "net_tap") return PortKind::kTap;
  // PCI PMDs are named net_<nic> too (net_ice, net_i40e, mlx5_pci): only
  // the known software devices are virtual.
  for (std::string_view soft :
       {"net_pcap", "net_ring", "net_null", "net_memif", "net_virtio_user"}) {
    if (driver == soft) return PortKind::kVirtual;
  }
  return PortKind::kNic;
}

ConsumerFeatures FeaturesFromVirtio(uint64_t features) {
  ConsumerFeatures f;
  f.negotiated = true;
  f.tso4 = Has(features, kGuestTso4);
  f.tso6 = Has(features, kGuestTso6);
  f.uso = Has(features, kGuestUso4) || Has(features, kGuestUso6) ||
          Has(features, kGuestUfo);
  f.checksum = Has(features, kGuestCsum);
  f.mergeable_rx_buffers = Has(features, kMrgRxbuf);
  return f;
}

ConsumerFeatures ConsumerOf(uint16_t port_id, PortKind kind) {
  if (kind != PortKind::kVhostUser) return {};
  // -1 until a guest has connected (and again after it left).
  const int vid = rte_eth_vhost_get_vid_from_port_id(port_id);
  uint64_t features = 0;
  if (vid < 0 || rte_vhost_get_negotiated_features(vid, &features) != 0) {
    return {};
  }
  return FeaturesFromVirtio(features);
}

}  // namespace grod::dataplane
