#include "dataplane/bench/integrity_section.h"

#include <rte_eth_ring.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "common/dataplane_types.h"
#include "dataplane/bench/bench_eal.h"
#include "dataplane/bench/data_plane_scenarios.h"
#include "dataplane/bench/fatal.h"
#include "dataplane/bench/traffic.h"
#include "dataplane/dpdk_dataplane.h"
#include "dataplane/traffic/sample_traffic.h"

namespace grod::dataplane::bench {
namespace {

// Whether an untagged TCP/IPv4 frame's TCP checksum is right.
bool TcpChecksumOk(const std::vector<uint8_t>& f) {
  if (f.size() < 54 || f[12] != 0x08 || f[13] != 0x00) return false;
  const size_t ihl = (f[14] & 0x0f) * 4;
  const size_t ip_len = (f[16] << 8) | f[17];
  const size_t l4 = 14 + ihl, end = 14 + ip_len;
  if (end > f.size()) return false;
  uint32_t sum = 0;
  for (size_t i = 26; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
  sum += 6 + (end - l4);
  for (size_t i = l4; i + 1 < end; i += 2) sum += (f[i] << 8) | f[i + 1];
  if ((end - l4) & 1) sum += f[end - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

}  // namespace

void IntegritySection() {
  rte_ring* rx = rte_ring_create("bint_rx", 1024, SOCKET_ID_ANY,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* tx = rte_ring_create("bint_tx", 1024, SOCKET_ID_ANY,
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_mempool* pool = rte_pktmbuf_pool_create(
      "bint_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (!rx || !tx || !pool) Die("integrity memory");
  const int port = rte_eth_from_rings("bint", &rx, 1, &tx, 1, SOCKET_ID_ANY);
  if (port < 0) Die("rte_eth_from_rings");
  std::unique_ptr<DpdkDataPlane> dp =
      StartDataPlane({{PortName(port), "", 512, 512}}, 0);
  std::printf(
      "\n## Integrity check (not a benchmark): 16 TCP4 segments of one flow "
      "in one burst, segment 5's payload corrupted (one byte flipped, "
      "checksum left as it was)\n\n"
      "| mode | segments out | with a bad TCP checksum (a plain forwarder: "
      "1) |\n|---|---:|---:|\n");
  const struct {
    const char* name;
    GroMode mode;
  } modes[] = {{"BYPASS", GroMode::kBypass},
               {"LIST + unlink", GroMode::kList},
               {"MERGE, no-TSO port (linked)", GroMode::kMerge}};
  uint32_t seq = 1;
  for (const auto& m : modes) {
    Check(dp->UpsertTenant(TenantOn("integrity", port, m.mode)), "tenant");
    std::vector<rte_mbuf*> mbufs;
    for (int i = 0; i < 16; ++i, seq += kTcpPayload) {
      std::vector<uint8_t> f = TcpFrame(FlowOf(0), seq, kTcpPayload);
      if (i == 5) f[100] ^= 0x01;
      rte_mbuf* mb = rte_pktmbuf_alloc(pool);
      memcpy(rte_pktmbuf_append(mb, f.size()), f.data(), f.size());
      mbufs.push_back(mb);
    }
    if (rte_ring_enqueue_bulk(rx, reinterpret_cast<void**>(mbufs.data()),
                              mbufs.size(), nullptr) != mbufs.size()) {
      Die("integrity enqueue");
    }
    int out = 0, bad = 0;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out < 16 && std::chrono::steady_clock::now() < deadline) {
      void* obj = nullptr;
      if (rte_ring_dequeue(tx, &obj) != 0) continue;
      rte_mbuf* mb = static_cast<rte_mbuf*>(obj);
      std::vector<uint8_t> bytes(mb->pkt_len);
      const void* d = rte_pktmbuf_read(mb, 0, mb->pkt_len, bytes.data());
      if (d != bytes.data()) memcpy(bytes.data(), d, mb->pkt_len);
      rte_pktmbuf_free(mb);
      ++out;
      bad += !TcpChecksumOk(bytes);
    }
    std::printf("| %s | %d | %d |\n", m.name, out, bad);
  }
  dp->Stop();
  if (dp->MbufsInUse() != 0) Die("data plane leaked mbufs");
  dp.reset();
  rte_ring_free(rx);
  rte_ring_free(tx);
  if (rte_mempool_in_use_count(pool) != 0) Die("integrity: mbufs leaked");
  rte_mempool_free(pool);
}

}  // namespace grod::dataplane::bench
