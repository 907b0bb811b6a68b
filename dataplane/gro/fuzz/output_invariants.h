// Invariants the fuzzer checks on a Context's outputs, with its own small
// frame reader (not the engine's parser) and the identity of the input
// mbufs (zero-copy: every output is made of the input mbufs):
//   * each output carries whole inputs, each input exactly once (checked by
//     the caller's mbuf count), at most max_segments per output;
//   * an output of one input is that input, byte for byte;
//   * a merged plain (non-VXLAN) output has consistent IP (and UDP)
//     lengths, a valid IPv4 header checksum when the engine verified its
//     input or rebuilt the header (fragments), TSO size and length within
//     the limits;
//   * order per 5-tuple (well-formed TCP/UDP, same MACs, VLANs and port):
//     no output follows one whose inputs all arrived after its own.
#ifndef GROD_DATAPLANE_GRO_FUZZ_OUTPUT_INVARIANTS_H_
#define GROD_DATAPLANE_GRO_FUZZ_OUTPUT_INVARIANTS_H_

#include <rte_mbuf.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dataplane/gro/gro_engine.h"

namespace grod::gro::fuzz {

class OutputInvariants {
 public:
  OutputInvariants(const ContextConfig& cfg, uint16_t vxlan_port)
      : cfg_(cfg), vxlan_port_(vxlan_port) {}
  // Input i (before it is given to the engine): its mbufs and bytes.
  void AddInput(const rte_mbuf* m);
  // Checks every output (before they are consumed); aborts on a violation.
  void Check(const std::vector<rte_mbuf*>& outputs) const;

 private:
  struct Input {
    std::string bytes;
    std::string group;  // 5-tuple key, empty if not classified
  };
  std::string GroupOf(const std::string& f) const;
  void CheckMerged(const rte_mbuf* m, size_t inputs) const;

  const ContextConfig cfg_;
  const uint16_t vxlan_port_;
  std::vector<Input> inputs_;
  std::map<const rte_mbuf*, size_t> index_of_;  // every input mbuf
};

}  // namespace grod::gro::fuzz

#endif  // GROD_DATAPLANE_GRO_FUZZ_OUTPUT_INVARIANTS_H_
