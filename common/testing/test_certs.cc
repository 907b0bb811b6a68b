#include "common/testing/test_certs.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace grod::testing {

namespace {

constexpr char kScript[] = R"(set -e
cd "$1"
O=/usr/bin/openssl
EC="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
ca() { $O req -x509 $EC -keyout $1.key -out $1.pem -days 2 -subj /CN=$1; }
leaf() {  # name ca ext
  printf "$3" > $1.ext
  $O req $EC -keyout $1.key -out $1.csr -subj /CN=$1
  $O x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial \
    -out $1.pem -days 2 -extfile $1.ext
}
ca ca
ca other-ca
leaf server ca "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
leaf client ca "extendedKeyUsage=clientAuth\n"
leaf other-client other-ca "extendedKeyUsage=clientAuth\n"
)";

}  // namespace

absl::StatusOr<TestCerts> MakeTestCerts(const std::string& dir) {
  const std::string script = absl::StrCat(dir, "/make_certs.sh");
  if (std::system(absl::StrCat("mkdir -p '", dir, "'").c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot create ", dir));
  }
  std::ofstream(script) << kScript;
  const std::string cmd = absl::StrCat("/bin/sh '", script, "' '", dir, "' >'",
                                       dir, "/openssl.log' 2>&1");
  if (std::system(cmd.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("openssl failed; see ", dir, "/openssl.log:\n",
                     ReadTestFile(dir + "/openssl.log")));
  }
  TestCerts c;
  c.dir = dir;
  c.ca_cert = dir + "/ca.pem";
  c.server_cert = dir + "/server.pem";
  c.server_key = dir + "/server.key";
  c.client_cert = dir + "/client.pem";
  c.client_key = dir + "/client.key";
  c.other_ca_cert = dir + "/other-ca.pem";
  c.other_client_cert = dir + "/other-client.pem";
  c.other_client_key = dir + "/other-client.key";
  return c;
}

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace grod::testing
