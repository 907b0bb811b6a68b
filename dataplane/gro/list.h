// Internal accessors for the LIST dynamic field (see gro_engine.h for the
// representation).
#ifndef GROD_DATAPLANE_GRO_LIST_H_
#define GROD_DATAPLANE_GRO_LIST_H_

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

namespace grod::gro::internal {

struct ListLink {
  rte_mbuf* next;
  uint16_t count;
};

// Set once by RegisterDynfield(); -1 / 0 before.
extern int g_list_link_offset;
extern uint64_t g_list_flag;

inline ListLink* Link(rte_mbuf* m) {
  return RTE_MBUF_DYNFIELD(m, g_list_link_offset, ListLink*);
}
inline const ListLink* Link(const rte_mbuf* m) {
  return RTE_MBUF_DYNFIELD(m, g_list_link_offset, const ListLink*);
}

}  // namespace grod::gro::internal

#endif  // GROD_DATAPLANE_GRO_LIST_H_
