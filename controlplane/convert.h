// grod.v1 protos <-> the plain data-plane types of common/dataplane_types.h.
//
// Conversions assume their input was validated (see validate.h); they never
// fail. Keeping them in one file means the data plane's view of a tenant is
// derived in exactly one way, at bootstrap and on every RPC.
#ifndef GROD_CONTROLPLANE_CONVERT_H_
#define GROD_CONTROLPLANE_CONVERT_H_

#include "absl/time/time.h"
#include "common/dataplane_types.h"
#include "google/protobuf/timestamp.pb.h"
#include "proto/grod/v1/grod.pb.h"

namespace grod::controlplane {

GroMode ToGroMode(v1::GroMode mode);  // UNSPECIFIED -> kMerge
v1::GroMode ToProto(GroMode mode);

FlushPolicy ToFlushPolicy(const v1::FlushPolicy& policy);
// A normalised tenant (validate.h) -> what the data plane is told.
TenantSpec ToTenantSpec(const v1::Tenant& tenant);

v1::PortKind ToProto(PortKind kind);
v1::Port ToProto(const PortInfo& port);
v1::TenantStats ToProto(const TenantCounters& counters);
v1::PortStats ToProto(const PortCounters& counters);

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& t);

}  // namespace grod::controlplane

#endif  // GROD_CONTROLPLANE_CONVERT_H_
