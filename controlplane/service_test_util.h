// Shared fixture for the gRPC service tests: a TestServer with a state
// file, and a snapshot of everything a failed call must not change.
#ifndef GROD_CONTROLPLANE_SERVICE_TEST_UTIL_H_
#define GROD_CONTROLPLANE_SERVICE_TEST_UTIL_H_

#include <map>
#include <memory>
#include <string>

#include "controlplane/test_server.h"
#include "gtest/gtest.h"

namespace grod::controlplane {

// Everything observable about the configuration.
struct World {
  std::map<std::string, TenantSpec> dp_tenants;
  std::map<std::string, std::map<IpPrefix, GroMode>> dp_hints;
  std::string dp_unmatched;
  uint64_t generation = 0;
  std::string state_file;   // bytes on disk
  std::string api_tenants;  // ListTenants, serialised
  bool operator==(const World&) const = default;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  World Snapshot();
  // Asserts `status` has `code` and a message containing `text`.
  static void ExpectError(const grpc::Status& status, grpc::StatusCode code,
                          const std::string& text);
  // Runs `call` and checks it failed as expected and changed nothing.
  void ExpectRejected(const std::function<grpc::Status()>& call,
                      grpc::StatusCode code, const std::string& text);
  v1::Tenant Create(const std::string& name, uint32_t vlan = 10);

  std::string state_file_;
  std::string admin_token_;  // sent by Snapshot() when auth is on
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Grod::Stub> stub_;
};

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_SERVICE_TEST_UTIL_H_
