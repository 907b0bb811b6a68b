// The default quotas, seen three ways that must agree: what a tenant created
// through the real gRPC service (over its socket) gets, what the data plane
// uses for a tenant whose spec leaves them alone (TenantSpec's defaults; the
// GRO engine's ContextConfig is static_asserted equal in tenant_manager.cc),
// and what grod.proto's Quotas comments promise the API's users.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "controlplane/service_test_util.h"

namespace grod::controlplane {
namespace {

// The N of "0 = server default (N)" in the comment right above
// `uint32 <field> = ...;` in grod.proto.
uint32_t DocumentedDefault(const std::string& field) {
  const char* dir = std::getenv("TEST_SRCDIR");
  const std::string path =
      std::string(dir ? dir : ".") + "/grod/proto/grod/v1/grod.proto";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  const std::regex re("server default \\((\\d+)\\)[^;]*\\n\\s*uint32 " + field +
                      " = ");
  std::smatch m;
  const std::string proto = text.str();
  if (!std::regex_search(proto, m, re)) {
    ADD_FAILURE() << "grod.proto: no \"server default (N)\" comment above "
                  << field;
    return 0;
  }
  uint32_t n = 0;
  EXPECT_TRUE(absl::SimpleAtoi(m[1].str(), &n)) << m[1];
  return n;
}

class DefaultQuotasTest : public ServiceTest {};

TEST_F(DefaultQuotasTest, ApiDataPlaneAndDocsAgree) {
  // No quotas in the request: the server fills in its defaults.
  const v1::Tenant created = Create("plain");
  const std::optional<TenantSpec> spec = server_->dp().tenant("plain");
  ASSERT_TRUE(spec.has_value());
  const TenantSpec data_plane_default;

  EXPECT_EQ(created.quotas().max_flows(), data_plane_default.max_flows);
  EXPECT_EQ(created.quotas().max_held_packets(),
            data_plane_default.max_held_packets);
  EXPECT_EQ(spec->max_flows, data_plane_default.max_flows);
  EXPECT_EQ(spec->max_held_packets, data_plane_default.max_held_packets);

  EXPECT_EQ(created.quotas().max_flows(), DocumentedDefault("max_flows"));
  EXPECT_EQ(created.quotas().max_held_packets(),
            DocumentedDefault("max_held_packets"));

  // Explicit zeros mean the same as leaving the quotas out.
  v1::CreateTenantRequest req;
  *req.mutable_tenant() = MakeTenant("zeros", 11);
  req.mutable_tenant()->mutable_quotas()->set_max_flows(0);
  req.mutable_tenant()->mutable_quotas()->set_max_held_packets(0);
  v1::Tenant zeros;
  ASSERT_TRUE(stub_->CreateTenant(Ctx().get(), req, &zeros).ok());
  EXPECT_EQ(zeros.quotas().SerializeAsString(),
            created.quotas().SerializeAsString());
  EXPECT_EQ(server_->dp().tenant("zeros")->max_held_packets,
            data_plane_default.max_held_packets);
}

}  // namespace
}  // namespace grod::controlplane
