#include "dataplane/testing/egress_fixture.h"

#include "dataplane/testing/dpdk_env.h"

namespace grod::dataplane::testing {

void EgressPortTest::SetUp() {
  static int next = 0;
  port_ = std::make_unique<EgressPort>("egress" + std::to_string(next++));
  ASSERT_TRUE(port_->ok()) << port_->error();
  ASSERT_TRUE(gro::RegisterDynfield());
  id_ = port_->id();
}

void EgressPortTest::TearDown() {
  if (port_ != nullptr && port_->ok()) {
    port_->ring().Collect();
    EXPECT_EQ(port_->InUse(), 0u) << "mbuf leak";
  }
  port_.reset();
}

rte_mbuf* EgressPortTest::ToMbuf(const gro::testing::Bytes& frame) {
  rte_mbuf* m = gro::testing::ToMbuf(port_->pool(), frame);
  EXPECT_NE(m, nullptr);
  if (m != nullptr) m->port = id_;
  return m;
}

std::vector<rte_mbuf*> ThroughEngine(const std::vector<rte_mbuf*>& in,
                                     gro::Mode mode,
                                     const gro::ContextConfig& cfg) {
  auto ctx = gro::Context::Create(cfg);
  EXPECT_NE(ctx, nullptr);
  if (ctx == nullptr) return {};
  gro::testing::Collector col;
  for (rte_mbuf* m : in) ctx->ProcessBurst(&m, 1, mode, 0, &col.out);
  ctx->FlushAll(&col.out);
  return col.Take();
}

std::string Join(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& line : lines) s += line + "\n";
  return s;
}

}  // namespace grod::dataplane::testing
