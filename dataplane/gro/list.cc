// LIST mode representation: dynamic mbuf field + dynamic ol_flag.  A flag
// (rather than a field value) marks the head because dynamic field bytes of
// packets that never passed through the engine hold garbage, while drivers
// and rte_pktmbuf_reset() always rewrite ol_flags.
#include <rte_errno.h>

#include "dataplane/gro/gro_engine.h"
#include "dataplane/gro/list.h"

namespace grod::gro {
namespace internal {
int g_list_link_offset = -1;
uint64_t g_list_flag = 0;
}  // namespace internal

using internal::g_list_flag;
using internal::g_list_link_offset;
using internal::Link;

bool RegisterDynfield() {
  if (g_list_link_offset >= 0 && g_list_flag != 0) return true;
  static const rte_mbuf_dynfield kField = {"grod_gro_list_link",
                                           sizeof(internal::ListLink),
                                           alignof(internal::ListLink), 0};
  static const rte_mbuf_dynflag kFlag = {"grod_gro_list", 0};
  const int off = rte_mbuf_dynfield_register(&kField);
  if (off < 0) return false;
  const int bit = rte_mbuf_dynflag_register(&kFlag);
  if (bit < 0) return false;
  g_list_link_offset = off;
  g_list_flag = 1ULL << bit;
  return true;
}

bool IsList(const rte_mbuf* m) {
  return g_list_flag != 0 && (m->ol_flags & g_list_flag);
}

uint16_t ListLength(const rte_mbuf* head) {
  return IsList(head) ? Link(head)->count : 1;
}

uint16_t Unlink(rte_mbuf* head, rte_mbuf** out, uint16_t cap) {
  if (!IsList(head)) {
    if (cap == 0) return 0;
    out[0] = head;
    return 1;
  }
  const uint16_t count = Link(head)->count;
  if (cap < count) return 0;  // all or nothing: a partial unlink loses packets
  // The engine described only the head (see FinalizeList); members share
  // its layout, so they get the same metadata here.
  const uint64_t tx_offload = head->tx_offload;
  const uint32_t ptype = head->packet_type;
  head->ol_flags &= ~g_list_flag;
  rte_mbuf* m = head;
  uint16_t n = 0;
  while (m != nullptr && n < count) {
    rte_mbuf* next = Link(m)->next;
    m->tx_offload = tx_offload;
    m->packet_type = ptype;
    Link(m)->next = nullptr;
    out[n++] = m;
    m = next;
  }
  return n;
}

uint16_t UnlinkSome(rte_mbuf** list, rte_mbuf** out, uint16_t cap) {
  rte_mbuf* head = *list;
  if (head == nullptr || cap == 0) return 0;
  if (!IsList(head)) {
    out[0] = head;
    *list = nullptr;
    return 1;
  }
  const uint16_t count = Link(head)->count;
  const uint64_t tx_offload = head->tx_offload;
  const uint32_t ptype = head->packet_type;
  head->ol_flags &= ~g_list_flag;
  rte_mbuf* m = head;
  uint16_t n = 0;
  while (m != nullptr && n < count && n < cap) {
    rte_mbuf* next = Link(m)->next;
    m->tx_offload = tx_offload;
    m->packet_type = ptype;
    Link(m)->next = nullptr;
    out[n++] = m;
    m = next;
  }
  *list = nullptr;
  if (m != nullptr && n < count) {
    // The rest becomes a list of its own, described like the old head.
    m->tx_offload = tx_offload;
    m->packet_type = ptype;
    if (count - n > 1) {
      m->ol_flags |= g_list_flag;
      Link(m)->count = count - n;
    }
    *list = m;
  }
  return n;
}

void FreePacket(rte_mbuf* m) {
  if (!IsList(m)) {
    rte_pktmbuf_free(m);
    return;
  }
  for (uint16_t left = Link(m)->count; m != nullptr && left > 0; --left) {
    rte_mbuf* next = Link(m)->next;
    m->ol_flags &= ~g_list_flag;
    rte_pktmbuf_free(m);
    m = next;
  }
}

}  // namespace grod::gro
