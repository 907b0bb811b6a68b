// Runs the fuzz entry under gtest: the committed seed corpus, then a few
// thousand random mutations of it (byte flips, truncation, splicing).  The
// real fuzzer is fuzz/run_fuzz.sh; this keeps the entry exercised in CI.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "dataplane/gro/fuzz/fuzz_entry.h"

namespace grod::gro::fuzz {
namespace {

std::vector<std::vector<uint8_t>> Corpus() {
  std::vector<std::vector<uint8_t>> v;
  for (const auto& e :
       std::filesystem::directory_iterator("dataplane/gro/fuzz/corpus")) {
    std::ifstream f(e.path(), std::ios::binary);
    v.emplace_back(std::istreambuf_iterator<char>(f),
                   std::istreambuf_iterator<char>());
  }
  return v;
}

TEST(GroFuzz, SeedCorpus) {
  const auto corpus = Corpus();
  ASSERT_GE(corpus.size(), 5u);
  for (const auto& in : corpus) GroFuzzOne(in.data(), in.size());
}

TEST(GroFuzz, RandomMutations) {
  const auto corpus = Corpus();
  ASSERT_FALSE(corpus.empty());
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> in = corpus[rng() % corpus.size()];
    switch (rng() % 4) {
      case 0:  // byte flips
        for (int k = rng() % 8 + 1; k > 0; --k) in[rng() % in.size()] ^= rng();
        break;
      case 1:  // truncation
        in.resize(rng() % in.size() + 1);
        break;
      case 2: {  // splice with another seed
        const auto& o = corpus[rng() % corpus.size()];
        in.insert(in.begin() + rng() % in.size(), o.begin() + rng() % o.size(),
                  o.end());
        break;
      }
      default:  // pure noise
        for (auto& b : in) b = uint8_t(rng());
    }
    GroFuzzOne(in.data(), in.size());
  }
}

}  // namespace
}  // namespace grod::gro::fuzz
