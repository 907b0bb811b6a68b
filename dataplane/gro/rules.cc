// The merge rules (see engine.h), written once for all types: whether a
// packet may join a held flow, and how runs grow, start and join.
#include <netinet/in.h>

#include "dataplane/gro/engine.h"
#include "dataplane/gro/list.h"

namespace grod::gro {

bool Engine::Fits(const Layout& l, uint32_t bytes, uint32_t segs) const {
  // Bytes covered by the outermost IP length field besides the payload.
  const uint32_t base = l.vxlan ? l.outer_l3_off + (l.outer_is_v6 ? 40 : 0)
                                : l.l3_off + (l.is_v6 ? 40 : 0);
  // max_segments bounds every output, fragments too: egress must be able
  // to take any output apart again (a LIST is unlinked into a fixed
  // buffer), so a datagram of more fragments leaves as larger fragments.
  const bool plain_tcp = !l.vxlan && (l.type & (kTcp4 | kTcp6));
  return segs <= cfg_.max_segments &&
         l.payload_off - base + bytes <= limit(plain_tcp);
}

bool Engine::Compatible(const Flow& f, const ParsedPacket& p, const rte_mbuf* m,
                        Mode mode) const {
  // Field by field: a Layout built on the stack and compared wide would
  // stall on store forwarding.
  const FlowCold& c = t_->cold(&f);
  const Layout& l = c.layout;
  if (l.payload_off != p.payload_off || l.l4_off != p.l4_off ||
      l.l3_off != p.l3_off || l.l2_off != p.l2_off || l.mode != uint8_t(mode) ||
      l.vxlan != p.has_vni ||
      (l.vxlan &&
       (l.outer_l3_off != p.outer_l3_off || l.outer_l4_off != p.outer_l4_off ||
        l.outer_is_v6 != p.outer_is_v6)) ||
      memcmp(&p.attrs, &c.attrs, sizeof(p.attrs)) != 0) {
    return false;  // type/proto/version are part of the key
  }
  // Fragments: Not-ECT and ECN-capable fragments never share a flow (Linux
  // drops such a datagram; RFC 3168 5.3); CE among ECT ones marks the
  // whole (EmitRun).
  if (l.type == kIpv4Frag &&
      ((f.run0.flags & kEcnSeenNotEct) != 0) != (p.ecn == 0)) {
    return false;
  }
  // IPv4 and TCP option bytes must be identical (Linux, DPDK): compare the
  // bytes between the fixed headers and the payload with the held head,
  // whose headers are always intact.  Only then is the head touched.
  const bool ip_opts = !p.is_v6 && l.l4_off - l.l3_off > 20;
  const bool outer_opts =
      l.vxlan && !l.outer_is_v6 && l.outer_l4_off - l.outer_l3_off > 20;
  if (!ip_opts && !outer_opts && p.attrs.opt_len == 0) return true;
  const uint8_t* a = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint8_t* b = rte_pktmbuf_mtod(f.run0.head, const uint8_t*);
  if (ip_opts &&
      memcmp(a + l.l3_off + 20, b + l.l3_off + 20, l.l4_off - l.l3_off - 20)) {
    return false;
  }
  if (p.attrs.opt_len != 0 &&
      memcmp(a + l.l4_off + 20, b + l.l4_off + 20, p.attrs.opt_len) != 0) {
    return false;
  }
  if (outer_opts && memcmp(a + l.outer_l3_off + 20, b + l.outer_l3_off + 20,
                           l.outer_l4_off - l.outer_l3_off - 20) != 0) {
    return false;
  }
  return true;
}

bool Engine::CanAppend(const Flow& f, const Run& r,
                       const ParsedPacket& p) const {
  const FlowCold& c = t_->cold(&f);
  const uint32_t len = p.payload_len;
  if (c.layout.type == kIpv4Frag) {
    if (!r.last_mf) return false;
  } else {
    if (r.last_len != r.mss || len > r.mss) return false;
    if (r.flags & (kTcpPsh | kTcpFin)) return false;
    if (!c.attrs.df && p.ip_id != uint16_t(r.last_id + 1)) return false;
  }
  if (c.layout.vxlan && !c.attrs.outer_df &&
      p.outer_ip_id != uint16_t(r.outer_last_id + 1)) {
    return false;
  }
  return Fits(c.layout, r.bytes + len, r.segs + 1u);
}

// Only fragment runs grow at the front (see AddSeq): a datagram is one
// output however its fragments arrived.
bool Engine::CanPrepend(const Flow& f, const Run& r,
                        const ParsedPacket& p) const {
  const FlowCold& c = t_->cold(&f);
  if (!p.more_frags) return false;
  if (c.layout.vxlan && !c.attrs.outer_df &&
      uint16_t(p.outer_ip_id + 1) != r.outer_first_id) {
    return false;
  }
  return Fits(c.layout, r.bytes + p.payload_len, r.segs + 1u);
}

// Zero-copy chaining: `tail_of_a` is the last mbuf segment of a chain whose
// first segment is `a`; b's headers are cut off before it is linked.  The
// head's pkt_len / nb_segs are written at emit time (see Run).
inline void Chain(rte_mbuf* tail_of_a, rte_mbuf* b, uint16_t b_hdr) {
  rte_pktmbuf_adj(b, b_hdr);
  tail_of_a->next = b;
}

void Engine::Append(Flow* f, Run* r, rte_mbuf* m, const ParsedPacket& p) {
  const Layout& l = t_->cold(f).layout;
  if (l.mode == uint8_t(Mode::kList)) {
    internal::Link(r->tail)->next = m;
    r->tail = m;
  } else {
    r->nsegs += m->nb_segs;
    Chain(r->tail, m, l.payload_off);
    r->tail = LastSeg(m);
  }
  r->end += p.payload_len;
  r->bytes += p.payload_len;
  r->segs++;
  r->last_len = p.payload_len;
  r->last_id = p.ip_id;
  r->outer_last_id = p.outer_ip_id;
  r->last_mf = p.more_frags;
  r->flags |= RunFlags(l, p);
}

void Engine::Prepend(Flow* f, Run* r, rte_mbuf* m, const ParsedPacket& p) {
  const Layout& l = t_->cold(f).layout;
  if (l.mode == uint8_t(Mode::kList)) {
    internal::Link(m)->next = r->head;
  } else {
    r->nsegs += m->nb_segs;
    Chain(LastSeg(m), r->head, l.payload_off);
  }
  r->head = m;
  r->start = p.seq;
  r->bytes += p.payload_len;
  r->segs++;
  r->mss = p.payload_len;
  r->first_id = p.ip_id;
  r->outer_first_id = p.outer_ip_id;
  r->flags |= RunFlags(l, p);
}

void Engine::TryJoin(Flow* f, int i) {
  if (i + 1 >= f->nruns) return;
  const FlowCold& c = t_->cold(f);
  if (c.layout.mode == uint8_t(Mode::kList)) return;
  Run& a = t_->run(f, i);
  Run& b = t_->run(f, i + 1);
  if (a.end != b.start) return;
  // (Only fragment runs join: a TCP flow holds one run.)
  if (!a.last_mf) return;
  if (c.layout.vxlan && !c.attrs.outer_df &&
      uint16_t(a.outer_last_id + 1) != b.outer_first_id) {
    return;
  }
  if (!Fits(c.layout, a.bytes + b.bytes, uint32_t(a.segs) + b.segs)) return;
  if (c.layout.mode == uint8_t(Mode::kList)) {
    internal::Link(a.tail)->next = b.head;
  } else {
    Chain(a.tail, b.head, c.layout.payload_off);
    a.nsegs += b.nsegs;
  }
  a.tail = b.tail;
  a.end = b.end;
  a.bytes += b.bytes;
  a.segs += b.segs;
  a.last_len = b.last_len;
  a.last_id = b.last_id;
  a.outer_last_id = b.outer_last_id;
  a.flags |= b.flags;
  a.last_mf = b.last_mf;
  uint32_t* stamp = t_->cold(f).run_stamp;
  if (int32_t(stamp[i + 1] - stamp[i]) < 0) stamp[i] = stamp[i + 1];
  for (int j = i + 1; j + 1 < f->nruns; ++j) {
    t_->run(f, j) = t_->run(f, j + 1);
    stamp[j] = stamp[j + 1];
  }
  f->nruns--;
}

Run& Engine::OpenRun(Flow* f, int i) {
  // Arrival order of runs: a new run is the newest.  (A single run's stamp
  // may be stale -- the fast path revives flows without it -- but it is
  // older than this one.)
  uint32_t* stamp = t_->cold(f).run_stamp;
  const uint32_t now = t_->NextRunStamp();
  if (f->nruns == 1) stamp[0] = now - 1;
  for (int j = f->nruns; j > i; --j) {
    t_->run(f, j) = t_->run(f, j - 1);
    stamp[j] = stamp[j - 1];
  }
  stamp[i] = now;
  f->nruns++;
  return t_->run(f, i);
}

void Engine::StartRun(Flow* f, int i, rte_mbuf* m, const ParsedPacket& p) {
  Run& r = OpenRun(f, i);
  r.head = m;
  // LIST: the link of the last member is written when the run is emitted.
  r.tail = t_->cold(f).layout.mode == uint8_t(Mode::kList) ? m : LastSeg(m);
  r.start = p.seq;
  r.end = p.seq + p.payload_len;
  r.bytes = p.payload_len;
  r.segs = 1;
  r.nsegs = m->nb_segs;
  r.mss = r.last_len = p.payload_len;
  r.first_id = r.last_id = p.ip_id;
  r.outer_first_id = r.outer_last_id = p.outer_ip_id;
  r.flags = RunFlags(t_->cold(f).layout, p);
  r.last_mf = p.more_frags;
}

AddResult Engine::AddSeq(Flow* f, rte_mbuf* m, const ParsedPacket& p) {
  const uint32_t s = p.seq, e = p.seq + p.payload_len;
  // Overlap with any held run first: a packet that would extend one run
  // may reach into the next, and overlapping bytes are never merged (it
  // passes after what the flow holds: arrival order).
  for (int j = 0; j < f->nruns; ++j) {
    const Run& r = t_->run(f, j);
    if (SeqLt(s, r.end) && SeqLt(r.start, e)) return AddResult::kDuplicate;
  }
  // TCP, both modes: one run per flow, as Linux (fraglist GRO too).  A
  // merged packet's bytes leave in sequence order, so it may only hold
  // segments that arrived in that order; a list's members leave one by
  // one in arrival order, and older runs held beside it could only wait
  // (only the newest could grow, and runs leave oldest first) -- holding
  // them changes nothing in what leaves or its order, only delays it.  So
  // a segment joins only at the end of the flow's run; any other flushes
  // the run first (kOutOfOrder) and starts the next.  (The fast path and
  // the streaming loop take these cases themselves.)
  const Layout& l = t_->cold(f).layout;
  const bool list = l.mode == uint8_t(Mode::kList);
  if (l.type != kIpv4Frag) {
    Run& r = f->run0;
    if (r.end != s) return AddResult::kOutOfOrder;
    if (!CanAppend(*f, r, p)) return AddResult::kNoFit;
    Append(f, &r, m, p);
    return AddResult::kAdded;
  }
  // Fragments: a datagram is one output, its fragments join in any order
  // (runs sorted by offset; in LIST only the newest run grows, at its end,
  // and runs never join or grow at the front).
  int newest = 0;
  if (list) {
    const uint32_t* stamp = t_->cold(f).run_stamp;
    for (int j = 1; j < f->nruns; ++j) {
      if (int32_t(stamp[j] - stamp[newest]) > 0) newest = j;
    }
  }
  int i = 0;
  for (; i < f->nruns; ++i) {
    Run& r = t_->run(f, i);
    if (r.end == s && (!list || i == newest)) {
      if (!CanAppend(*f, r, p)) return AddResult::kNoFit;
      Append(f, &r, m, p);
      TryJoin(f, i);
      return AddResult::kAdded;
    }
    if (e == r.start && !list) {
      if (!CanPrepend(*f, r, p)) return AddResult::kNoFit;
      Prepend(f, &r, m, p);
      return AddResult::kAdded;
    }
    if (SeqLt(s, r.start)) break;
  }
  if (f->nruns == kMaxRuns) return AddResult::kTooManyRuns;
  StartRun(f, i, m, p);
  return AddResult::kAdded;
}

// UDP datagrams have no sequence number: arrival order is the order, so a
// flow has a single run that only grows at the end.
AddResult Engine::AddUdp(Flow* f, rte_mbuf* m, const ParsedPacket& p) {
  Run& r = f->run0;
  if (!CanAppend(*f, r, p)) return AddResult::kNoFit;
  Append(f, &r, m, p);
  return AddResult::kAdded;
}

}  // namespace grod::gro
