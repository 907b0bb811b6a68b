#include "dataplane/gro/flow_table.h"

#include <rte_malloc.h>

#include <new>

namespace grod::gro {

FlowTable* FlowTable::Create(uint32_t max_flows, int socket_id) {
  if (max_flows == 0 || max_flows > (1u << 24)) return nullptr;
  uint32_t nslots = 1;
  while (nslots < 2 * max_flows) nslots <<= 1;
  void* mem = rte_zmalloc_socket("grod_gro_table", sizeof(FlowTable),
                                 RTE_CACHE_LINE_SIZE, socket_id);
  if (mem == nullptr) return nullptr;
  FlowTable* t = new (mem) FlowTable();
  t->slots_ = static_cast<Slot*>(rte_malloc_socket(
      "grod_gro_slots", sizeof(Slot) * nslots, RTE_CACHE_LINE_SIZE, socket_id));
  t->flows_ = static_cast<Flow*>(
      rte_zmalloc_socket("grod_gro_flows", sizeof(Flow) * max_flows,
                         RTE_CACHE_LINE_SIZE, socket_id));
  t->free_ = static_cast<uint32_t*>(rte_malloc_socket(
      "grod_gro_free", sizeof(uint32_t) * max_flows, 0, socket_id));
  if (t->slots_ == nullptr || t->flows_ == nullptr || t->free_ == nullptr) {
    Destroy(t);
    return nullptr;
  }
  for (uint32_t i = 0; i < nslots; ++i) t->slots_[i] = {0, kNil};
  // Hand out low indices first: fewer distinct cache lines with few flows.
  for (uint32_t i = 0; i < max_flows; ++i) t->free_[i] = max_flows - 1 - i;
  t->nfree_ = max_flows;
  t->mask_ = nslots - 1;
  t->capacity_ = max_flows;
  return t;
}

void FlowTable::Destroy(FlowTable* t) {
  if (t == nullptr) return;
  rte_free(t->slots_);
  rte_free(t->flows_);
  rte_free(t->free_);
  t->~FlowTable();
  rte_free(t);
}

Flow* FlowTable::Insert(const FlowKey& key, uint32_t hash, uint64_t now_tsc) {
  const uint32_t idx = free_[--nfree_];
  Flow* f = &flows_[idx];
  memcpy(&f->key, &key, sizeof(key));
  f->hash = hash;
  f->start_tsc = now_tsc;
  f->older = newest_;
  f->newer = kNil;
  if (newest_ != kNil) {
    flows_[newest_].newer = idx;
  } else {
    oldest_ = idx;
  }
  newest_ = idx;
  uint32_t i = hash & mask_;
  while (slots_[i].idx != kNil) i = (i + 1) & mask_;
  slots_[i] = {hash, idx};
  ++size_;
  return f;
}

void FlowTable::Remove(Flow* f) {
  const uint32_t idx = Index(f);
  uint32_t i = f->hash & mask_;
  while (slots_[i].idx != idx) i = (i + 1) & mask_;
  // Backward-shift deletion keeps every probe chain gap-free, so lookups
  // never need tombstones and stay short after churn.
  for (uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    if (slots_[j].idx == kNil) break;
    const uint32_t home = slots_[j].hash & mask_;
    // Move j into the hole at i unless its home lies cyclically in (i, j].
    const bool stays = ((j - home) & mask_) < ((j - i) & mask_);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = {0, kNil};
  if (f->older != kNil) {
    flows_[f->older].newer = f->newer;
  } else {
    oldest_ = f->newer;
  }
  if (f->newer != kNil) {
    flows_[f->newer].older = f->older;
  } else {
    newest_ = f->older;
  }
  free_[nfree_++] = idx;
  --size_;
}

}  // namespace grod::gro
