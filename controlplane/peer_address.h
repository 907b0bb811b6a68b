// Whether a gRPC peer (ServerContext::peer(): "ipv4:127.0.0.1:5000",
// "ipv6:[::1]:5000", "unix:/run/grod/grod.sock", ...) is on this machine
// over a path no one else can observe: a unix socket or a loopback address.
// Bearer tokens sent over plaintext from anywhere else are refused.
#ifndef GROD_CONTROLPLANE_PEER_ADDRESS_H_
#define GROD_CONTROLPLANE_PEER_ADDRESS_H_

#include "absl/strings/string_view.h"

namespace grod::controlplane {

// Unix sockets, 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool IsLocalPeer(absl::string_view peer);

// The same for a listen or dial address ("unix:/path", "127.0.0.1:50051",
// "[::1]:50051", "localhost:50051").
bool IsLocalAddress(absl::string_view address);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_PEER_ADDRESS_H_
