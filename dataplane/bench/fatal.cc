#include "dataplane/bench/fatal.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace grod::dataplane::bench {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "forwarding_benchmark: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(absl::StrCat(what, ": ", s.ToString()));
}

}  // namespace grod::dataplane::bench
