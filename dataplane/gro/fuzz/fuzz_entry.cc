#include "dataplane/gro/fuzz/fuzz_entry.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/gro/fuzz/output_invariants.h"
#include "dataplane/gro/gro_engine.h"

namespace grod::gro::fuzz {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "gro fuzz invariant broken: %s\n", what);
    abort();
  }
}

struct Env {
  rte_mempool* pool = nullptr;
  rte_mempool* indirect = nullptr;
};

const Env& GetEnv() {
  static const Env env = [] {
    Env e;
    std::string prefix = "--file-prefix=grofuzz" + std::to_string(getpid());
    const char* argv[] = {"gro_fuzz",
                          "--no-huge",
                          "-m",
                          "256",
                          "--no-pci",
                          "--no-telemetry",
                          "--no-shconf",
                          "--log-level=*:error",
                          prefix.c_str(),
                          "-l",
                          "0"};
    // The EAL may already be up (gtest replays inside a test binary).
    if (rte_eal_init(sizeof(argv) / sizeof(argv[0]), const_cast<char**>(argv)) <
            0 &&
        rte_errno != EALREADY) {
      fprintf(stderr, "EAL init failed\n");
      abort();
    }
    Check(RegisterDynfield(), "dynfield");
    e.pool = rte_pktmbuf_pool_create("fuzz_pool", 4095, 0, 0,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    e.indirect =
        rte_pktmbuf_pool_create("fuzz_ind", 4095, 0, 0, 0, SOCKET_ID_ANY);
    Check(e.pool && e.indirect, "pools");
    return e;
  }();
  return env;
}

struct Sink {
  std::vector<rte_mbuf*> pkts;
  static void Drain(Output* o, void* arg) {
    auto* s = static_cast<Sink*>(arg);
    s->pkts.insert(s->pkts.end(), o->pkts, o->pkts + o->count);
    o->count = 0;
  }
};

rte_mbuf* MakeMbuf(rte_mempool* pool, const uint8_t* p, size_t n, bool split) {
  rte_mbuf* head = rte_pktmbuf_alloc(pool);
  if (head == nullptr) return nullptr;
  size_t first = split && n > 1 ? n / 2 : n;
  if (first > rte_pktmbuf_tailroom(head)) first = rte_pktmbuf_tailroom(head);
  memcpy(rte_pktmbuf_append(head, first), p, first);
  if (first < n) {
    rte_mbuf* tail = rte_pktmbuf_alloc(pool);
    const size_t rest = n - first;
    if (tail == nullptr || rest > rte_pktmbuf_tailroom(tail)) {
      rte_pktmbuf_free(tail);
      rte_pktmbuf_free(head);
      return nullptr;
    }
    memcpy(rte_pktmbuf_append(tail, rest), p + first, rest);
    rte_pktmbuf_chain(head, tail);
  }
  return head;
}

// Everything observable about an output (bytes and metadata, list members
// too); consumes it.  `expand`: also re-segment a merged packet (checking
// it can be).
std::string Consume(const Env& env, rte_mbuf* m, bool expand) {
  std::string s(reinterpret_cast<const char*>(&m->ol_flags), 8);
  s.append(reinterpret_cast<const char*>(&m->tx_offload), 8);
  s.append(reinterpret_cast<const char*>(&m->packet_type), 4);
  s.append(reinterpret_cast<const char*>(&m->nb_segs), 2);
  s.append(reinterpret_cast<const char*>(&m->pkt_len), 4);
  for (const rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    s.append(rte_pktmbuf_mtod(seg, const char*), seg->data_len);
  }
  if (IsList(m)) {
    rte_mbuf* v[128];
    const uint16_t n = ListLength(m);
    Check(n >= 2 && n <= 64, "list length");
    Check(Unlink(m, v, 128) == n, "unlink");
    for (uint16_t i = 0; i < n; ++i) {
      s.append(rte_pktmbuf_mtod(v[i], const char*), v[i]->data_len);
      rte_pktmbuf_free(v[i]);
    }
    return s;
  }
  if (expand &&
      (m->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG))) {
    rte_mbuf* v[128];
    const int n = Segment(m, env.pool, env.indirect, v, 128);
    Check(n >= 2, "segment count");
    for (int i = 0; i < n; ++i) rte_pktmbuf_free(v[i]);
    return s;
  }
  rte_pktmbuf_free(m);
  return s;
}

}  // namespace

int GroFuzzOne(const uint8_t* data, size_t size) {
  const Env& env = GetEnv();
  if (size < 2) return 0;
  const unsigned base = rte_mempool_in_use_count(env.pool);
  const unsigned base_ind = rte_mempool_in_use_count(env.indirect);
  ContextConfig cfg;
  cfg.verify_checksums = data[0] & 4;
  // An input holds at most a few hundred packets, so 256 flows behave as
  // the default 4096 would, while creating (zeroing) the two tables per
  // input -- 70% of the time per input with 4096 -- costs 16x less.
  cfg.max_flows = 256;
  if (data[0] & 8) {
    cfg.max_flows = 4;
    cfg.max_held_packets = 8;
    cfg.max_segments = 3;
  }
  if (data[0] & 16) cfg.max_merged_bytes = 3000;
  if (data[0] & 32) cfg.vxlan_port = 8472;
  cfg.gro_types = data[1] & kAll;
  // Both contexts place flows alike (the probe bound never differs).
  cfg.hash_seed = 1 + data[1];
  auto ctx = Context::Create(cfg);
  auto fast = Context::Create(cfg);  // the same input by the burst API
  Check(ctx != nullptr && fast != nullptr, "context");
  OutputInvariants inv(ctx->config(), cfg.vxlan_port);
  const ParseConfig pc{cfg.vxlan_port};
  Sink sink, fast_sink;
  rte_mbuf* buf[4];
  rte_mbuf* fast_buf[4];
  Output out{buf, 0, 4, &Sink::Drain, &sink};
  Output fast_out{fast_buf, 0, 4, &Sink::Drain, &fast_sink};
  // The burst API takes one mode and one timestamp per call: a burst ends
  // when either changes, and before a timeout flush.
  std::vector<rte_mbuf*> burst;
  Mode burst_mode = Mode::kMerge;
  uint64_t burst_now = 0;
  auto submit = [&] {
    if (burst.empty()) return;
    fast->ProcessBurst(burst.data(), uint16_t(burst.size()), burst_mode,
                       burst_now, &fast_out);
    burst.clear();
  };
  size_t in = 0;
  uint64_t now = 0;
  for (size_t at = 2; at + 3 <= size;) {
    size_t len = size_t(data[at]) << 8 | data[at + 1];
    const uint8_t flags = data[at + 2];
    at += 3;
    if (len > size - at) len = size - at;
    if (len > 3000) len = 3000;
    rte_mbuf* m = MakeMbuf(env.pool, data + at, len, flags & 4);
    rte_mbuf* copy = MakeMbuf(env.pool, data + at, len, flags & 4);
    at += len;
    if (m == nullptr || copy == nullptr) {
      rte_pktmbuf_free(m);
      rte_pktmbuf_free(copy);
      continue;
    }
    m->port = copy->port = (flags >> 4) & 1;  // the port is in the flow key
    const Mode mode = Mode((flags & 3) % 3 + 1);
    inv.AddInput(m);
    ParsedPacket p;
    Parse(m, pc, &p);
    ctx->Process(m, p, mode, now, &out);
    if (mode != burst_mode || now != burst_now || burst.size() == 64) {
      submit();
    }
    burst_mode = mode;
    burst_now = now;
    burst.push_back(copy);
    ++in;
    now += flags >> 4;
    if (flags & 8) {
      submit();
      ctx->FlushTimedOut(now, 4, &out);
      fast->FlushTimedOut(now, 4, &fast_out);
    }
  }
  submit();
  ctx->FlushAll(&out);
  fast->FlushAll(&fast_out);
  Sink::Drain(&out, &sink);
  Sink::Drain(&fast_out, &fast_sink);
  Check(ctx->held_packets() == 0, "held after FlushAll");
  Check(ctx->counters().packets_in == in, "packets_in");
  Check(ctx->counters().packets_out == sink.pkts.size(), "packets_out");
  uint64_t passed = 0;
  for (uint64_t n : ctx->counters().passthrough) passed += n;
  Check(ctx->counters().merged_out + ctx->counters().list_out +
                ctx->counters().single_out + passed ==
            sink.pkts.size(),
        "output kinds do not add up to the outputs");
  Check(memcmp(&ctx->counters(), &fast->counters(), sizeof(Counters)) == 0,
        "burst API counters differ from Parse + Process");
  Check(sink.pkts.size() == fast_sink.pkts.size(),
        "burst API output count differs");
  inv.Check(sink.pkts);
  for (size_t i = 0; i < sink.pkts.size(); ++i) {
    Check(Consume(env, sink.pkts[i], true) ==
              Consume(env, fast_sink.pkts[i], false),
          "burst API output differs from Parse + Process");
  }
  ctx.reset();
  fast.reset();
  Check(rte_mempool_in_use_count(env.pool) == base, "mbuf leak");
  Check(rte_mempool_in_use_count(env.indirect) == base_ind, "indirect leak");
  return 0;
}

}  // namespace grod::gro::fuzz
