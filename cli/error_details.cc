#include "cli/error_details.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"

namespace grod::cli {

google::rpc::Status RpcStatusOf(const grpc::Status& status) {
  google::rpc::Status rpc;
  if (!status.error_details().empty() &&
      rpc.ParseFromString(status.error_details()) &&
      rpc.code() == static_cast<int>(status.error_code())) {
    return rpc;
  }
  rpc.Clear();
  rpc.set_code(static_cast<int>(status.error_code()));
  rpc.set_message(status.error_message());
  return rpc;
}

std::string ViolationLines(const google::rpc::Status& status) {
  std::string lines;
  for (const google::protobuf::Any& detail : status.details()) {
    if (google::rpc::BadRequest br; detail.UnpackTo(&br)) {
      for (const auto& v : br.field_violations()) {
        absl::StrAppend(&lines, "  field ", v.field(), ": ", v.description(),
                        "\n");
      }
    } else if (google::rpc::QuotaFailure qf; detail.UnpackTo(&qf)) {
      for (const auto& v : qf.violations()) {
        absl::StrAppend(&lines, "  quota ", v.subject(), ": ", v.description(),
                        "\n");
      }
    }
  }
  return lines;
}

}  // namespace grod::cli
