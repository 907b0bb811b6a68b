// What a port delivers to (its kind, from the DPDK driver) and, for a
// vhost-user port, what the guest negotiated (virtio-net features).
#ifndef GROD_DATAPLANE_RUNTIME_PORT_KIND_H_
#define GROD_DATAPLANE_RUNTIME_PORT_KIND_H_

#include <cstdint>
#include <string_view>

#include "common/dataplane_types.h"

namespace grod::dataplane {

// net_af_xdp -> kAfXdp, net_vhost -> kVhostUser, ...; PCI drivers -> kNic.
PortKind PortKindOf(std::string_view driver_name);

// Decodes a virtio-net feature word (VIRTIO_NET_F_* bits).
ConsumerFeatures FeaturesFromVirtio(uint64_t features);

// The attached guest's features for a vhost-user port (negotiated = false
// while no guest is attached); empty for other kinds.
ConsumerFeatures ConsumerOf(uint16_t port_id, PortKind kind);

}  // namespace grod::dataplane

#endif  // GROD_DATAPLANE_RUNTIME_PORT_KIND_H_
