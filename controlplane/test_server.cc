#include "controlplane/test_server.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace grod::controlplane {

TestServer::TestServer(ControlPlaneOptions opts, const v1::GrodConfig& config) {
  // Tests that choose an address (a unix socket, 0.0.0.0:0) keep it.
  if (opts.listen_address == ControlPlaneOptions().listen_address) {
    opts.listen_address = "127.0.0.1:0";
  }
  listen_address_ = opts.listen_address;
  if (opts.version.empty()) opts.version = "test-version";
  auto cp = ControlPlane::Create(std::move(opts), &dp_);
  if (!cp.ok()) {
    // log-ok: a test fixture failing its test, not grod's log.
    std::fprintf(stderr, "Create: %s\n", cp.status().ToString().c_str());
    std::abort();
  }
  cp_ = *std::move(cp);
  absl::Status s = cp_->Bootstrap(config);
  if (s.ok()) s = cp_->Start();
  if (!s.ok()) {
    // log-ok: a test fixture failing its test, not grod's log.
    std::fprintf(stderr, "TestServer: %s\n", s.ToString().c_str());
    std::abort();
  }
}

TestServer::~TestServer() { cp_->Shutdown(); }

std::string TestServer::address() const {
  if (listen_address_.rfind("unix:", 0) == 0) return listen_address_;
  return absl::StrCat("127.0.0.1:", cp_->port());
}

std::unique_ptr<v1::Grod::Stub> TestServer::Stub() const {
  return v1::Grod::NewStub(
      grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

v1::Tenant MakeTenant(const std::string& name, uint32_t vlan) {
  v1::Tenant t;
  t.set_name(name);
  v1::TrafficSelector* s = t.add_selectors();
  s->set_port_id(0);
  s->set_vlan_id(vlan);
  return t;
}

}  // namespace grod::controlplane
