// A ControlPlane on 127.0.0.1:0 (or the listen_address a test sets) over a
// FakeDataPlane, for tests.
#ifndef GROD_CONTROLPLANE_TEST_SERVER_H_
#define GROD_CONTROLPLANE_TEST_SERVER_H_

#include <memory>
#include <string>

#include "common/testing/fake_dataplane.h"
#include "controlplane/control_plane.h"
#include "grpcpp/grpcpp.h"
#include "proto/grod/v1/grod.grpc.pb.h"

namespace grod::controlplane {

class TestServer {
 public:
  // Creates, bootstraps and starts; aborts the test binary on failure
  // (every test needs a server).
  explicit TestServer(ControlPlaneOptions opts = {},
                      const v1::GrodConfig& config = {});
  ~TestServer();

  testing::FakeDataPlane& dp() { return dp_; }
  ControlPlane& cp() { return *cp_; }
  // 127.0.0.1:<port>, or the unix: address listened on.
  std::string address() const;

  // An insecure-channel stub.
  std::unique_ptr<v1::Grod::Stub> Stub() const;

 private:
  testing::FakeDataPlane dp_;
  std::unique_ptr<ControlPlane> cp_;
  std::string listen_address_;
};

// A context with a 10s deadline and, if non-empty, "authorization: Bearer".
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "");

// A valid tenant: one selector (port 0, VLAN `vlan`).
v1::Tenant MakeTenant(const std::string& name, uint32_t vlan = 10);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_TEST_SERVER_H_
