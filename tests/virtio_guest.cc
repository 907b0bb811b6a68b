// A test "guest": a real virtio-net frontend (DPDK's net_virtio_user) on a
// vhost-user socket, as a VM's virtio-net driver would be.  It records every
// packet it receives with the virtio-net header the backend wrote in front
// of it (read raw from the buffer, not from the PMD's interpretation) and
// sends frames from a file, as TSO packets when the file says so.  What it
// asks the backend for (--tso) decides what the two negotiate.
//
//   virtio_guest --socket=PATH --prefix=NAME [--tso] [--send=FILE]
//                [--receive=FILE] [--seconds=N] [--send_delay=N]
//                [--queue_size=N]
// Runs until --seconds pass or SIGTERM; exits 0 after printing its counts.
//
// --send file: records of [u32 frame length][u16 mss][frame]; mss > 0 sends
// the frame as one TSO packet (TCP over untagged IPv4/IPv6), 0xffff with
// only its TCP checksum offloaded (a partial checksum on the wire to grod).
// --receive file: records of [u32 length][u16 nb_segs][u16 tso_segsz]
// [u64 ol_flags][12-byte virtio_net_hdr_mrg_rxbuf as received][packet].
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t stop = 0;
void OnSignal(int) { stop = 1; }

struct Options {
  std::string socket, prefix, send, receive;
  bool tso = false;
  double seconds = 10;
  double send_delay = 2;            // seconds before the first frame goes out
  std::string queue_size = "1024";  // descriptors in each virtqueue
};

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name, std::string* out) {
      const std::string p = std::string("--") + name + "=";
      if (a.rfind(p, 0) != 0) return false;
      *out = a.substr(p.size());
      return true;
    };
    std::string s;
    if (value("socket", &o->socket) || value("prefix", &o->prefix) ||
        value("send", &o->send) || value("receive", &o->receive) ||
        value("queue_size", &o->queue_size)) {
      continue;
    }
    if (value("seconds", &s)) {
      o->seconds = std::stod(s);
    } else if (value("send_delay", &s)) {
      o->send_delay = std::stod(s);
    } else if (a == "--tso") {
      o->tso = true;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return false;
    }
  }
  return !o->socket.empty() && !o->prefix.empty();
}

// An mss that means: no TSO, but the TCP checksum left to the backend
// (virtio-net NEEDS_CSUM), as a guest with checksum offload sends.
constexpr uint16_t kChecksumOnly = 0xffff;

struct Frame {
  uint16_t mss;
  std::vector<uint8_t> bytes;
};

bool ReadFrames(const std::string& path, std::vector<Frame>* frames) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  uint32_t len;
  uint16_t mss;
  while (std::fread(&len, 4, 1, f) == 1 && std::fread(&mss, 2, 1, f) == 1) {
    Frame fr{mss, std::vector<uint8_t>(len)};
    if (std::fread(fr.bytes.data(), 1, len, f) != len) break;
    frames->push_back(std::move(fr));
  }
  std::fclose(f);
  return true;
}

// A frame copied into a chain of pool mbufs, with TSO metadata if asked.
rte_mbuf* Build(const Frame& fr, rte_mempool* pool) {
  rte_mbuf* head = nullptr;
  size_t off = 0;
  while (off < fr.bytes.size()) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
      rte_pktmbuf_free(head);
      return nullptr;
    }
    const size_t n =
        std::min<size_t>(rte_pktmbuf_tailroom(m), fr.bytes.size() - off);
    std::memcpy(rte_pktmbuf_append(m, n), fr.bytes.data() + off, n);
    off += n;
    if (head == nullptr) {
      head = m;
    } else if (rte_pktmbuf_chain(head, m) != 0) {
      rte_pktmbuf_free(m);
      rte_pktmbuf_free(head);
      return nullptr;
    }
  }
  if (fr.mss == 0) return head;
  const uint8_t* d = fr.bytes.data();
  const bool v4 = (d[14] >> 4) == 4;
  head->l2_len = 14;
  head->l3_len = v4 ? (d[14] & 0xf) * 4 : 40;
  head->l4_len = (d[14 + head->l3_len + 12] >> 4) * 4;
  head->ol_flags |= v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;
  if (fr.mss == kChecksumOnly) {
    head->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;  // sent partial
    return head;
  }
  head->tso_segsz = fr.mss;
  head->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
  return head;
}

void Record(FILE* f, const rte_mbuf* m) {
  // The virtio-net header sits right in front of the first buffer's data
  // (the PMD posts buffers at headroom - header size).
  const uint8_t* hdr = rte_pktmbuf_mtod(m, const uint8_t*) - 12;
  const uint32_t len = m->pkt_len;
  const uint16_t segs = m->nb_segs, mss = m->tso_segsz;
  const uint64_t fl = m->ol_flags;
  std::fwrite(&len, 4, 1, f);
  std::fwrite(&segs, 2, 1, f);
  std::fwrite(&mss, 2, 1, f);
  std::fwrite(&fl, 8, 1, f);
  std::fwrite(hdr, 1, 12, f);
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    std::fwrite(rte_pktmbuf_mtod(s, const uint8_t*), 1, s->data_len, f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!Parse(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: %s --socket=PATH --prefix=NAME [--tso] [--send=F] "
                 "[--receive=F] [--seconds=N]\n",
                 argv[0]);
    return 2;
  }
  std::vector<Frame> frames;
  if (!o.send.empty() && !ReadFrames(o.send, &frames)) {
    std::fprintf(stderr, "cannot read %s\n", o.send.c_str());
    return 2;
  }
  const std::string vdev = "--vdev=net_virtio_user0,path=" + o.socket +
                           ",queues=1,mrg_rxbuf=1,queue_size=" + o.queue_size;
  const std::string prefix = "--file-prefix=" + o.prefix;
  std::vector<std::string> eal = {argv[0],
                                  "-l",
                                  "1",
                                  "-m",
                                  "160",
                                  "--no-pci",
                                  "--no-telemetry",
                                  "--single-file-segments",
                                  "--huge-dir=/dev/hugepages",
                                  "--log-level=*:warning",
                                  prefix,
                                  vdev};
  std::vector<char*> eal_argv;
  for (auto& s : eal) eal_argv.push_back(s.data());
  if (rte_eal_init(eal_argv.size(), eal_argv.data()) < 0) {
    std::fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  rte_mempool* pool = rte_pktmbuf_pool_create(
      "guest", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (pool == nullptr) return 1;
  const uint16_t port = 0;
  rte_eth_dev_info info;
  rte_eth_dev_info_get(port, &info);
  rte_eth_conf conf{};
  if (o.tso) {
    // What a Linux guest's virtio-net asks for: LRO (GUEST_TSO4/6) and
    // receive checksum offload (GUEST_CSUM); TSO and checksums on send.
    conf.rxmode.offloads =
        (RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
         RTE_ETH_RX_OFFLOAD_UDP_CKSUM) &
        info.rx_offload_capa;
    conf.rxmode.max_lro_pkt_size = info.max_lro_pkt_size;
    conf.txmode.offloads =
        (RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
         RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &
        info.tx_offload_capa;
  } else {
    conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS & info.tx_offload_capa;
  }
  if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(port, 0, 0, rte_socket_id(), nullptr, pool) != 0 ||
      rte_eth_tx_queue_setup(port, 0, 0, rte_socket_id(), nullptr) != 0 ||
      rte_eth_dev_start(port) != 0) {
    std::fprintf(stderr, "cannot start the virtio-user port\n");
    return 1;
  }
  std::printf("guest up: rx offloads 0x%llx tx offloads 0x%llx\n",
              (unsigned long long)conf.rxmode.offloads,
              (unsigned long long)conf.txmode.offloads);
  std::fflush(stdout);

  FILE* rec = o.receive.empty() ? nullptr : std::fopen(o.receive.c_str(), "wb");
  uint64_t received = 0, sent = 0, tx_failed = 0, lro = 0;
  size_t next = 0;
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t end = rte_rdtsc() + uint64_t(o.seconds * hz);
  uint64_t next_send = rte_rdtsc() + uint64_t(o.send_delay * hz);
  while (!stop && rte_rdtsc() < end) {
    rte_mbuf* pkts[32];
    const uint16_t n = rte_eth_rx_burst(port, 0, pkts, 32);
    for (uint16_t i = 0; i < n; ++i) {
      if (rec != nullptr) Record(rec, pkts[i]);
      lro += (pkts[i]->ol_flags & RTE_MBUF_F_RX_LRO) != 0;
      rte_pktmbuf_free(pkts[i]);
    }
    received += n;
    // Frames go out in small bursts, paced, in file order.
    if (next < frames.size() && rte_rdtsc() >= next_send) {
      for (int k = 0; k < 4 && next < frames.size(); ++k, ++next) {
        rte_mbuf* m = Build(frames[next], pool);
        if (m == nullptr) {
          ++tx_failed;
          continue;
        }
        if (rte_eth_tx_prepare(port, 0, &m, 1) != 1) {
          rte_pktmbuf_free(m);
          ++tx_failed;
          continue;
        }
        int tries = 0;
        while (rte_eth_tx_burst(port, 0, &m, 1) == 0 && ++tries < 1000) {
        }
        if (tries == 1000) {
          rte_pktmbuf_free(m);
          ++tx_failed;
        } else {
          ++sent;
        }
      }
      next_send = rte_rdtsc() + hz / 500;  // 2 ms
    }
  }
  if (rec != nullptr) std::fclose(rec);
  std::printf(
      "guest done: received %llu (lro %llu), sent %llu of %zu, failed %llu\n",
      (unsigned long long)received, (unsigned long long)lro,
      (unsigned long long)sent, frames.size(), (unsigned long long)tx_failed);
  std::fflush(stdout);
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
  rte_eal_cleanup();
  return 0;
}
