// libFuzzer entry point; built by run_fuzz.sh with clang++-14.
#include <cstddef>
#include <cstdint>

#include "dataplane/gro/fuzz/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return grod::gro::fuzz::GroFuzzOne(data, size);
}
