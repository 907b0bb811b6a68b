// Test helper for persistence_test: applies route-hint additions through a
// Controller forever, printing "ack N" after change N was acknowledged, so
// the test can kill -9 it at any moment and check that every acknowledged
// change is in the state file.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/testing/fake_dataplane.h"
#include "controlplane/controller.h"
#include "controlplane/test_server.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    // log-ok: a test helper's usage text, not grod's log.
    std::fprintf(stderr, "usage: state_writer STATE_FILE\n");
    return 2;
  }
  grod::testing::FakeDataPlane dp;
  grod::controlplane::Controller ctl(&dp, argv[1], false);
  if (absl::Status s = ctl.Bootstrap({}); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());  // log-ok: test helper
    return 1;
  }
  const absl::Time later = absl::InfiniteFuture();
  if (!ctl.HasTenant("t")) {
    if (!ctl.CreateTenant(grod::controlplane::MakeTenant("t"), later).ok()) {
      return 1;
    }
  }
  for (int i = 0;; ++i) {
    grod::v1::AddRouteHintsRequest req;
    req.set_tenant("t");
    grod::v1::RouteHint* h = req.add_hints();
    h->set_prefix(absl::StrCat("10.", (i >> 8) & 255, ".", i & 255, ".0/24"));
    h->set_mode(grod::v1::GRO_MODE_LIST);
    if (!ctl.AddRouteHints(req, later).ok()) return 1;
    // log-ok: the acknowledgements are this helper's output to the test.
    std::printf("ack %d\n", i);
    std::fflush(stdout);
  }
}
