#include "controlplane/server_credentials.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace grod::controlplane {

namespace {

// gRPC's file watcher re-reads the files this often.
constexpr unsigned kRefreshSeconds = 1;

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view field) {
  std::ifstream in(path);
  std::stringstream buf;
  if (in) buf << in.rdbuf();
  if (!in || buf.str().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.", field, ": cannot read ", path));
  }
  return buf.str();
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioDeleter> Bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The certificate and key parse and belong together, so a half-finished
// rotation (new certificate, old key) is refused instead of breaking every
// handshake.
absl::Status CheckPair(const std::string& cert_pem, const std::string& key_pem,
                       const v1::SecurityConfig& security) {
  std::unique_ptr<X509, X509Deleter> cert(
      PEM_read_bio_X509(Bio(cert_pem).get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_cert_file: ", security.tls_cert_file(),
                     " holds no PEM certificate"));
  }
  std::unique_ptr<EVP_PKEY, KeyDeleter> key(
      PEM_read_bio_PrivateKey(Bio(key_pem).get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_key_file: ", security.tls_key_file(),
                     " holds no PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "security.tls_key_file: ", security.tls_key_file(),
        " does not match the certificate in ", security.tls_cert_file()));
  }
  return absl::OkStatus();
}

absl::Status CheckCa(const std::string& ca_pem,
                     const v1::SecurityConfig& security) {
  std::unique_ptr<X509, X509Deleter> ca(
      PEM_read_bio_X509(Bio(ca_pem).get(), nullptr, nullptr, nullptr));
  if (ca == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "security.tls_client_ca_file: ", security.tls_client_ca_file(),
        " holds no certificate"));
  }
  return absl::OkStatus();
}

// A sealed-size-free in-memory file holding `data`.
absl::StatusOr<int> MemFileWith(const std::string& data, const char* name) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("memfd_create: ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      close(fd);
      return absl::InternalError(
          absl::StrCat("writing ", name, ": ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return fd;
}

}  // namespace

std::string ServerCredentialsSource::MemFile::path() const {
  return absl::StrCat("/proc/self/fd/", fd);
}

ServerCredentialsSource::~ServerCredentialsSource() {
  for (MemFile* f : {&cert_, &key_, &ca_}) {
    if (f->fd >= 0) close(f->fd);
  }
}

absl::StatusOr<std::unique_ptr<ServerCredentialsSource>>
ServerCredentialsSource::Create(const v1::SecurityConfig& security) {
  std::unique_ptr<ServerCredentialsSource> src(new ServerCredentialsSource);
  src->security_ = security;
  const bool has_cert = !security.tls_cert_file().empty();
  const bool has_key = !security.tls_key_file().empty();
  if (!has_cert && !has_key) {
    if (!security.tls_client_ca_file().empty()) {
      return absl::InvalidArgumentError(
          "security.tls_client_ca_file: needs tls_cert_file and tls_key_file");
    }
    src->credentials_ = grpc::InsecureServerCredentials();
    return src;
  }
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "security: tls_cert_file and tls_key_file must be set together");
  }
  src->tls_ = true;
  if (absl::Status s = src->Load(/*initial=*/true); !s.ok()) return s;
  const bool mutual = !security.tls_client_ca_file().empty();
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          src->key_.path(), src->cert_.path(),
          mutual ? src->ca_.path() : std::string(), kRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions opts(provider);
  opts.watch_identity_key_cert_pairs();
  if (mutual) {
    opts.watch_root_certs();
    opts.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  src->credentials_ = grpc::experimental::TlsServerCredentials(opts);
  return src;
}

absl::Status ServerCredentialsSource::Reload() {
  if (!tls_) return absl::OkStatus();
  return Load(/*initial=*/false);
}

absl::Status ServerCredentialsSource::Load(bool initial) {
  absl::StatusOr<std::string> cert =
      ReadPem(security_.tls_cert_file(), "tls_cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key =
      ReadPem(security_.tls_key_file(), "tls_key_file");
  if (!key.ok()) return key.status();
  if (absl::Status s = CheckPair(*cert, *key, security_); !s.ok()) return s;
  std::string ca;
  if (!security_.tls_client_ca_file().empty()) {
    absl::StatusOr<std::string> c =
        ReadPem(security_.tls_client_ca_file(), "tls_client_ca_file");
    if (!c.ok()) return c.status();
    if (absl::Status s = CheckCa(*c, security_); !s.ok()) return s;
    ca = *std::move(c);
  }
  absl::MutexLock l(&mu_);
  for (auto [file, data, name] : {std::tuple{&key_, &*key, "grod-tls-key"},
                                  std::tuple{&cert_, &*cert, "grod-tls-cert"},
                                  std::tuple{&ca_, &ca, "grod-tls-ca"}}) {
    if (data->empty()) continue;
    absl::StatusOr<int> fd = MemFileWith(*data, name);
    if (!fd.ok()) return fd.status();
    if (initial) {
      file->fd = *fd;
      continue;
    }
    // Same descriptor number, new contents: the watcher's path now reads
    // the new file.
    if (dup3(*fd, file->fd, O_CLOEXEC) < 0) {
      const int err = errno;
      close(*fd);
      return absl::InternalError(absl::StrCat("dup3: ", std::strerror(err)));
    }
    close(*fd);
  }
  return absl::OkStatus();
}

}  // namespace grod::controlplane
