#include "controlplane/status_details.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"

namespace grod::controlplane {

namespace {

constexpr char kTypeUrlPrefix[] = "type.googleapis.com/";

std::string TypeUrl(const google::protobuf::Message& m) {
  return absl::StrCat(kTypeUrlPrefix, m.GetDescriptor()->full_name());
}

bool HasDetail(const absl::Status& s, const google::protobuf::Message& m) {
  return s.GetPayload(TypeUrl(m)).has_value();
}

// "tenants[2].flush_policy.timeout: must be ..." -> the path, if the
// message starts with one.
absl::string_view LeadingField(absl::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) return "";
  const absl::string_view field = message.substr(0, colon);
  for (char c : field) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '[' || c == ']';
    if (!ok) return "";
  }
  return field;
}

// "... (limits.max_tenants)" -> "limits.max_tenants".
std::string LimitName(absl::string_view message) {
  const size_t at = message.find("(limits.");
  if (at == absl::string_view::npos) return "";
  const size_t end = message.find(')', at);
  if (end == absl::string_view::npos) return "";
  return std::string(message.substr(at + 1, end - at - 1));
}

google::rpc::ResourceInfo TenantInfo(absl::string_view name,
                                     absl::string_view description) {
  google::rpc::ResourceInfo info;
  info.set_resource_type(kTenantResourceType);
  info.set_resource_name(std::string(name));
  info.set_description(std::string(description));
  return info;
}

}  // namespace

void AddDetail(absl::Status& status, const google::protobuf::Message& detail) {
  status.SetPayload(TypeUrl(detail), absl::Cord(detail.SerializeAsString()));
}

absl::Status FieldViolation(absl::string_view field,
                            absl::string_view description) {
  absl::Status s =
      absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
  google::rpc::BadRequest br;
  auto* v = br.add_field_violations();
  v->set_field(std::string(field));
  v->set_description(std::string(description));
  AddDetail(s, br);
  return s;
}

absl::Status TenantNotFound(absl::string_view name) {
  absl::Status s =
      absl::NotFoundError(absl::StrCat("tenant ", name, " not found"));
  AddDetail(s, TenantInfo(name, "not found"));
  return s;
}

absl::Status TenantExists(absl::string_view name) {
  absl::Status s = absl::AlreadyExistsError(
      absl::StrCat("tenant ", name, " already exists"));
  AddDetail(s, TenantInfo(name, "already exists"));
  return s;
}

absl::Status StaleEtag(absl::string_view field, absl::string_view resource,
                       absl::string_view current_etag) {
  const std::string what = absl::StrCat(
      "etag is not the current one of ", resource,
      " (someone changed it since you read it); read it again, reapply "
      "your change and retry");
  absl::Status s = absl::AbortedError(absl::StrCat(field, ": ", what));
  AddDetail(s,
            TenantInfo(resource, absl::StrCat("current etag ", current_etag)));
  google::rpc::BadRequest br;
  auto* v = br.add_field_violations();
  v->set_field(std::string(field));
  v->set_description(what);
  AddDetail(s, br);
  return s;
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  out.set_message(std::string(status.message()));
  absl::Status with = status;
  if (status.code() == absl::StatusCode::kInvalidArgument &&
      !HasDetail(status, google::rpc::BadRequest())) {
    const absl::string_view field = LeadingField(status.message());
    if (!field.empty()) {
      google::rpc::BadRequest br;
      auto* v = br.add_field_violations();
      v->set_field(std::string(field));
      v->set_description(
          std::string(status.message().substr(field.size() + 2)));
      AddDetail(with, br);
    }
  }
  if (status.code() == absl::StatusCode::kResourceExhausted &&
      !HasDetail(status, google::rpc::QuotaFailure())) {
    google::rpc::QuotaFailure qf;
    auto* v = qf.add_violations();
    const std::string limit = LimitName(status.message());
    v->set_subject(limit.empty() ? std::string(LeadingField(status.message()))
                                 : limit);
    v->set_description(std::string(status.message()));
    AddDetail(with, qf);
  }
  with.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    google::protobuf::Any* any = out.add_details();
    any->set_type_url(std::string(url));
    any->set_value(std::string(value));
  });
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const google::rpc::Status rpc = ToRpcStatus(status);
  if (rpc.details_size() == 0) {
    return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                        std::string(status.message()));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()), rpc.SerializeAsString());
}

}  // namespace grod::controlplane
