#include "dataplane/runtime/vnet_tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "dataplane/runtime/vnet_header.h"

namespace grod::dataplane {
namespace {

// Not in Debian 12's <linux/if_tun.h> (Linux 6.2 added them).
constexpr unsigned kTunFUso4 = 0x20;
constexpr unsigned kTunFUso6 = 0x40;

absl::Status Errno(const std::string& what, const std::string& ifname, int err,
                   const std::string& hint) {
  return absl::FailedPreconditionError(
      absl::StrCat("tap '", ifname, "': ", what, ": ", strerror(err),
                   hint.empty() ? "" : " (", hint, hint.empty() ? "" : ")"));
}

// Sets the MTU and IFF_UP through an ioctl socket in grod's namespace
// (where the tap is created; a test or operator may move it afterwards).
absl::Status ConfigureLink(const std::string& ifname, uint16_t mtu) {
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Errno("socket", ifname, errno, "");
  ifreq ifr{};
  strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  absl::Status status;
  if (mtu != 0) {
    ifr.ifr_mtu = mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) != 0) {
      status = Errno(absl::StrCat("setting MTU ", mtu), ifname, errno,
                     "ports[].mtu must be within 68..65521 for a tap");
    }
  }
  if (status.ok() && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
      status = Errno("bringing it up", ifname, errno, "");
    }
  }
  close(s);
  return status;
}

}  // namespace

TapQueue::~TapQueue() {
  if (stash_count_) rte_pktmbuf_free_bulk(stash_, stash_count_);
  if (fd_ >= 0) close(fd_);
}

bool TapQueue::Refill() {
  const uint16_t want = kMaxChain - stash_count_;
  if (want == 0) return true;
  if (rte_pktmbuf_alloc_bulk(pool_, stash_ + stash_count_, want) != 0) {
    return false;
  }
  stash_count_ = kMaxChain;
  return true;
}

uint16_t TapQueue::Receive(rte_mbuf** pkts, uint16_t n) {
  uint16_t got = 0;
  while (got < n) {
    if (!Refill()) {
      rx_nombuf += 1;  // the kernel keeps (or drops) the frame
      break;
    }
    VnetHeader h;
    iovec iov[1 + kMaxChain];
    iov[0] = {&h, sizeof(h)};
    // The stash's top mbufs, last first: the chain takes them in order.
    for (uint16_t i = 0; i < kMaxChain; ++i) {
      rte_mbuf* s = stash_[kMaxChain - 1 - i];
      iov[1 + i] = {rte_pktmbuf_mtod(s, void*), rte_pktmbuf_tailroom(s)};
    }
    const ssize_t r = readv(fd_, iov, 1 + kMaxChain);
    if (r < 0) {
      if (errno != EAGAIN && errno != EINTR) rx_errors += 1;
      break;
    }
    if (size_t(r) <= sizeof(h)) {
      rx_errors += 1;
      continue;
    }
    // Chain the mbufs the frame filled.
    uint32_t left = uint32_t(r) - sizeof(h);
    rte_mbuf* head = stash_[kMaxChain - 1];
    rte_mbuf* prev = nullptr;
    uint16_t used = 0;
    while (left > 0) {
      rte_mbuf* s = stash_[kMaxChain - 1 - used];
      s->data_len = std::min<uint32_t>(left, rte_pktmbuf_tailroom(s));
      left -= s->data_len;
      if (prev) prev->next = s;
      prev = s;
      ++used;
    }
    stash_count_ -= used;
    head->nb_segs = used;
    head->pkt_len = uint32_t(r) - sizeof(h);
    if (!ApplyFromKernel(h, head)) {
      rte_pktmbuf_free(head);
      rx_errors += 1;
      continue;
    }
    pkts[got++] = head;
  }
  return got;
}

bool TapQueue::Transmit(rte_mbuf* m, TxDrop* why) {
  VnetHeader h;
  if (m->nb_segs > kMaxTxSegments || !PrepareForKernel(m, &h)) {
    *why = kTxDropUnsendable;
    return false;
  }
  iovec iov[1 + kMaxTxSegments];
  iov[0] = {&h, sizeof(h)};
  int n = 1;
  for (rte_mbuf* s = m; s != nullptr; s = s->next) {
    iov[n++] = {rte_pktmbuf_mtod(s, void*), s->data_len};
  }
  if (writev(fd_, iov, n) >= 0) return true;
  switch (errno) {
    case EAGAIN:
    case ENOBUFS:
      *why = kTxDropRingFull;
      break;
    case EIO:
      *why = kTxDropLinkDown;
      break;
    default:
      tx_errors += 1;
      *why = kTxDropUnsendable;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<VnetTap>> VnetTap::Open(const Options& options,
                                                       rte_mempool* pool) {
  const std::string& name = options.interface;
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrCat("tap interface name '", name,
                                                   "' must be 1 to ",
                                                   IFNAMSIZ - 1, " bytes"));
  }
  std::unique_ptr<VnetTap> tap(new VnetTap());
  tap->interface_ = name;
  // What grod takes from the kernel; USO only where the kernel has it.
  unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
                      kTunFUso4 | kTunFUso6;
  for (uint16_t q = 0; q < options.queues; ++q) {
    const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      return Errno("opening /dev/net/tun", name, errno,
                   "load the tun module and run grod with CAP_NET_ADMIN");
    }
    tap->queues_.push_back(std::make_unique<TapQueue>(fd, pool));
    ifreq ifr{};
    strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
      return Errno(
          "TUNSETIFF", name, errno,
          "needs CAP_NET_ADMIN; an existing interface of that name must be a "
          "multi-queue tap with virtio-net headers owned by grod's user");
    }
    int hdr_size = sizeof(VnetHeader);
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) != 0) {
      return Errno("TUNSETVNETHDRSZ", name, errno, "");
    }
    if (ioctl(fd, TUNSETOFFLOAD, offloads) != 0) {
      // Kernels before 6.2 refuse the USO bits.
      offloads &= ~(kTunFUso4 | kTunFUso6);
      if (ioctl(fd, TUNSETOFFLOAD, offloads) != 0) {
        return Errno("TUNSETOFFLOAD", name, errno, "");
      }
    }
  }
  if (absl::Status s = ConfigureLink(name, options.mtu); !s.ok()) return s;

  const bool uso = offloads & kTunFUso4;
  ConsumerFeatures& f = tap->consumer_;
  f.negotiated = true;
  f.tso4 = offloads & TUN_F_TSO4;
  f.tso6 = offloads & TUN_F_TSO6;
  f.uso = uso;
  f.checksum = offloads & TUN_F_CSUM;
  PortCapabilities& c = tap->caps_;
  c.tcp_tso = true;  // the kernel takes GSO packets whatever TUNSETOFFLOAD
  c.udp_tso = uso;   // GSO_UDP_L4 arrived with USO (6.2)
  c.ipv4_checksum = c.tcp_checksum = c.udp_checksum = true;
  c.multi_segment_tx = true;
  c.tso_max_bytes = 65535;  // no BIG TCP through a tap
  c.mtu = options.mtu ? options.mtu : 1500;
  c.tx_max_segments = c.tx_max_mtu_segments = TapQueue::kMaxTxSegments;
  c.tso_min_segsz = 1;
  return tap;
}

VnetTap::~VnetTap() = default;

std::string VnetTap::MacAddress() const {
  // Asked through the tap's own descriptor: works wherever the interface
  // was moved (another network namespace).
  ifreq ifr{};
  if (queues_.empty() || ioctl(queues_[0]->fd(), SIOCGIFHWADDR, &ifr) != 0) {
    return "";
  }
  const auto* a = reinterpret_cast<const uint8_t*>(ifr.ifr_hwaddr.sa_data);
  char buf[18];
  snprintf(buf, sizeof(buf), "%02X:%02X:%02X:%02X:%02X:%02X", a[0], a[1], a[2],
           a[3], a[4], a[5]);
  return buf;
}

}  // namespace grod::dataplane
