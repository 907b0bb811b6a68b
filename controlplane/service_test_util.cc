#include "controlplane/service_test_util.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace grod::controlplane {

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

void ServiceTest::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  state_file_ =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/", info->test_suite_name(),
                   ".", info->name(), ".state");
  std::remove(state_file_.c_str());
  ControlPlaneOptions opts;
  opts.state_file = state_file_;
  // These tests make calls back to back; the rate limit has its own tests
  // (limits_test).
  opts.limits.set_mutations_per_second(100000);
  opts.limits.set_mutation_burst(10000000);
  server_ = std::make_unique<TestServer>(std::move(opts));
  stub_ = server_->Stub();
}

void ServiceTest::TearDown() { server_.reset(); }

World ServiceTest::Snapshot() {
  World w;
  w.dp_tenants = server_->dp().tenants();
  for (const auto& [name, spec] : w.dp_tenants) {
    w.dp_hints[name] = server_->dp().hints(name);
  }
  w.dp_unmatched = server_->dp().unmatched_tenant();
  w.generation = server_->cp().config_generation();
  w.state_file = ReadFile(state_file_);
  v1::ListTenantsRequest req;
  req.set_page_size(1000);
  v1::ListTenantsResponse resp;
  EXPECT_TRUE(stub_->ListTenants(Ctx(admin_token_).get(), req, &resp).ok());
  w.api_tenants = resp.SerializeAsString();
  return w;
}

void ServiceTest::ExpectError(const grpc::Status& status, grpc::StatusCode code,
                              const std::string& text) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_NE(status.error_message().find(text), std::string::npos)
      << "\"" << status.error_message() << "\" lacks \"" << text << "\"";
}

void ServiceTest::ExpectRejected(const std::function<grpc::Status()>& call,
                                 grpc::StatusCode code,
                                 const std::string& text) {
  const World before = Snapshot();
  ExpectError(call(), code, text);
  EXPECT_TRUE(before == Snapshot()) << "a failed call changed state";
}

v1::Tenant ServiceTest::Create(const std::string& name, uint32_t vlan) {
  v1::CreateTenantRequest req;
  *req.mutable_tenant() = MakeTenant(name, vlan);
  v1::Tenant resp;
  grpc::Status s = stub_->CreateTenant(Ctx().get(), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

}  // namespace grod::controlplane
