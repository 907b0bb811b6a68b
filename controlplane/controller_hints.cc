// Controller's route-hint calls (part of the :controller target; split from
// controller.cc only to keep files small).
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "controlplane/admission.h"
#include "controlplane/controller.h"
#include "controlplane/convert.h"
#include "controlplane/limits.h"
#include "controlplane/page_token.h"
#include "controlplane/prefix.h"
#include "controlplane/status_details.h"
#include "controlplane/validate.h"

namespace grod::controlplane {

namespace {

absl::Status FieldError(const absl::Status& s, absl::string_view field) {
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

absl::Status TooMany(absl::string_view field, int n) {
  return absl::ResourceExhaustedError(absl::StrCat(
      field, ": ", n, " in one request; at most ", kMaxHintsPerRequest));
}

// Parses entry `i` of a request's prefix list `list` (its field name is
// `field`); a prefix that appeared earlier in the list is an error.
absl::StatusOr<IpPrefix> ParseUniquePrefix(const std::string& text,
                                           const std::string& field,
                                           absl::string_view list, int i,
                                           std::map<IpPrefix, int>* seen) {
  absl::StatusOr<IpPrefix> p = ParseIpPrefix(text);
  if (!p.ok()) return FieldError(p.status(), field);
  auto [it, inserted] = seen->emplace(*p, i);
  if (!inserted) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": duplicate of ", list, "[", it->second, "]"));
  }
  return *p;
}

// The request's hints, each prefix valid and listed once, each mode valid;
// errors name the field (hints[3].prefix).
absl::StatusOr<std::vector<RouteHint>> ParseHints(
    const v1::AddRouteHintsRequest& req) {
  std::vector<RouteHint> hints;
  hints.reserve(req.hints_size());
  std::map<IpPrefix, int> seen;
  for (int i = 0; i < req.hints_size(); ++i) {
    const std::string field = absl::StrCat("hints[", i, "]");
    absl::StatusOr<IpPrefix> p =
        ParseUniquePrefix(req.hints(i).prefix(), absl::StrCat(field, ".prefix"),
                          "hints", i, &seen);
    if (!p.ok()) return p.status();
    if (absl::Status s =
            ValidateHintMode(req.hints(i).mode(), absl::StrCat(field, ".mode"));
        !s.ok()) {
      return s;
    }
    hints.push_back({*p, ToGroMode(req.hints(i).mode())});
  }
  return hints;
}

void LogRollback(const absl::Status& s) {
  if (!s.ok()) {
    GROD_LOG(ERROR,
             "control plane: rollback of route hints in the data plane "
             "failed: ",
             s.ToString());
  }
}

}  // namespace

absl::StatusOr<v1::AddRouteHintsResponse> Controller::AddRouteHints(
    const v1::AddRouteHintsRequest& req, absl::Time deadline) {
  if (absl::Status s = ValidateTenantName(req.tenant(), "tenant"); !s.ok()) {
    return s;
  }
  if (req.hints_size() > kMaxHintsPerRequest) {
    return TooMany("hints", req.hints_size());
  }
  // Parse outside the lock: a 100000-hint batch should not stall readers.
  absl::StatusOr<std::vector<RouteHint>> parsed = ParseHints(req);
  if (!parsed.ok()) return parsed.status();
  const std::vector<RouteHint>& hints = *parsed;

  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckDeadline(deadline); !s.ok()) return s;
  auto t = state_.tenants.find(req.tenant());
  if (t == state_.tenants.end()) return TenantNotFound(req.tenant());
  std::map<IpPrefix, GroMode>& current = t->second.hints;
  std::vector<IpPrefix> added;
  std::vector<RouteHint> replaced;  // with their previous modes
  for (const RouteHint& h : hints) {
    auto it = current.find(h.prefix);
    if (it == current.end()) {
      added.push_back(h.prefix);
    } else {
      replaced.push_back({h.prefix, it->second});
    }
  }
  if (current.size() + added.size() > static_cast<size_t>(kMaxHintsPerTenant)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("hints: tenant ", req.tenant(), " would have ",
                     current.size() + added.size(), " route hints; at most ",
                     kMaxHintsPerTenant));
  }
  if (const uint64_t total = RouteHintCount(state_.tenants) + added.size();
      !added.empty() && total > limits_.max_route_hints) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "hints: all tenants would have ", total, " route hints; at most ",
        limits_.max_route_hints, " (limits.max_route_hints)"));
  }
  v1::AddRouteHintsResponse resp;
  if (!hints.empty()) {
    if (absl::Status s = dp_->AddRouteHints(req.tenant(), hints); !s.ok()) {
      return absl::Status(
          s.code(),
          absl::StrCat("data plane rejected the change: ", s.message()));
    }
    for (const RouteHint& h : hints) current[h.prefix] = h.mode;
    const std::string old_etag = t->second.tenant.etag();
    t->second.tenant.set_etag(NextEtag());
    absl::Status s = Commit(
        [&] {
          for (const IpPrefix& p : added) current.erase(p);
          for (const RouteHint& h : replaced) current[h.prefix] = h.mode;
          t->second.tenant.set_etag(old_etag);
        },
        [&] {
          if (!added.empty()) {
            LogRollback(dp_->RemoveRouteHints(req.tenant(), added));
          }
          if (!replaced.empty()) {
            LogRollback(dp_->AddRouteHints(req.tenant(), replaced));
          }
        });
    if (!s.ok()) return s;
  }
  resp.set_added(static_cast<uint32_t>(added.size()));
  resp.set_replaced(static_cast<uint32_t>(replaced.size()));
  resp.set_total(static_cast<uint32_t>(current.size()));
  return resp;
}

absl::StatusOr<v1::RemoveRouteHintsResponse> Controller::RemoveRouteHints(
    const v1::RemoveRouteHintsRequest& req, absl::Time deadline) {
  if (absl::Status s = ValidateTenantName(req.tenant(), "tenant"); !s.ok()) {
    return s;
  }
  if (req.prefixes_size() > kMaxHintsPerRequest) {
    return TooMany("prefixes", req.prefixes_size());
  }
  std::vector<IpPrefix> prefixes;
  prefixes.reserve(req.prefixes_size());
  std::map<IpPrefix, int> seen;
  for (int i = 0; i < req.prefixes_size(); ++i) {
    const std::string field = absl::StrCat("prefixes[", i, "]");
    absl::StatusOr<IpPrefix> p =
        ParseUniquePrefix(req.prefixes(i), field, "prefixes", i, &seen);
    if (!p.ok()) return p.status();
    prefixes.push_back(*p);
  }

  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckDeadline(deadline); !s.ok()) return s;
  auto t = state_.tenants.find(req.tenant());
  if (t == state_.tenants.end()) return TenantNotFound(req.tenant());
  std::map<IpPrefix, GroMode>& current = t->second.hints;
  std::vector<IpPrefix> present;
  std::vector<RouteHint> removed;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    auto it = current.find(prefixes[i]);
    if (it == current.end()) {
      if (req.allow_missing()) continue;
      return absl::NotFoundError(
          absl::StrCat("prefixes[", i, "]: ", FormatIpPrefix(prefixes[i]),
                       " is not a route hint of tenant ", req.tenant()));
    }
    present.push_back(prefixes[i]);
    removed.push_back({prefixes[i], it->second});
  }
  v1::RemoveRouteHintsResponse resp;
  if (!present.empty()) {
    if (absl::Status s = dp_->RemoveRouteHints(req.tenant(), present);
        !s.ok()) {
      return absl::Status(
          s.code(),
          absl::StrCat("data plane rejected the change: ", s.message()));
    }
    for (const IpPrefix& p : present) current.erase(p);
    const std::string old_etag = t->second.tenant.etag();
    t->second.tenant.set_etag(NextEtag());
    absl::Status s = Commit(
        [&] {
          for (const RouteHint& h : removed) current[h.prefix] = h.mode;
          t->second.tenant.set_etag(old_etag);
        },
        [&] { LogRollback(dp_->AddRouteHints(req.tenant(), removed)); });
    if (!s.ok()) return s;
  }
  resp.set_removed(static_cast<uint32_t>(present.size()));
  resp.set_total(static_cast<uint32_t>(current.size()));
  return resp;
}

absl::StatusOr<v1::ListRouteHintsResponse> Controller::ListRouteHints(
    const v1::ListRouteHintsRequest& req) const {
  if (absl::Status s = ValidateTenantName(req.tenant(), "tenant"); !s.ok()) {
    return s;
  }
  if (req.page_size() < 0 || req.page_size() > kMaxHintPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be between 0 and ", kMaxHintPageSize));
  }
  const int page_size =
      req.page_size() == 0 ? kDefaultHintPageSize : req.page_size();
  std::optional<IpPrefix> after;
  if (!req.page_token().empty()) {
    absl::StatusOr<std::string> key =
        DecodePageToken(req.page_token(), "hints", req.tenant());
    if (!key.ok()) return key.status();
    absl::StatusOr<IpPrefix> p = ParseIpPrefix(*key);
    if (!p.ok()) return absl::InvalidArgumentError("page_token: malformed");
    after = *p;
  }
  absl::ReaderMutexLock l(&mu_);
  auto t = state_.tenants.find(req.tenant());
  if (t == state_.tenants.end()) return TenantNotFound(req.tenant());
  const std::map<IpPrefix, GroMode>& hints = t->second.hints;
  v1::ListRouteHintsResponse resp;
  resp.set_total(static_cast<uint32_t>(hints.size()));
  auto it = after.has_value() ? hints.upper_bound(*after) : hints.begin();
  for (; it != hints.end(); ++it) {
    if (resp.hints_size() == page_size) {
      resp.set_next_page_token(EncodePageToken(
          "hints", req.tenant(), resp.hints(resp.hints_size() - 1).prefix()));
      break;
    }
    v1::RouteHint* h = resp.add_hints();
    h->set_prefix(FormatIpPrefix(it->first));
    h->set_mode(ToProto(it->second));
  }
  return resp;
}

}  // namespace grod::controlplane
