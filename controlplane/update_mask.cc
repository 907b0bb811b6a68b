#include "controlplane/update_mask.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controlplane/status_details.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace grod::controlplane {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::FieldMask;
using google::protobuf::Message;
using google::protobuf::util::FieldMaskUtil;

// Top-level fields a client may change, in field-number order.
constexpr const char* kMutable[] = {"selectors", "quotas", "gro_types",
                                    "default_mode", "flush_policy"};

bool IsMutable(const std::string& top) {
  for (const char* m : kMutable) {
    if (top == m) return true;
  }
  return false;
}

absl::Status BadPath(int i, absl::string_view what) {
  return FieldViolation(absl::StrCat("update_mask.paths[", i, "]"), what);
}

bool Populated(const Message& m, const FieldDescriptor* f) {
  const auto* r = m.GetReflection();
  return f->is_repeated() ? r->FieldSize(m, f) > 0 : r->HasField(m, f);
}

void Diff(const Message& a, const Message& b, const std::string& prefix,
          FieldMask* out) {
  const auto* d = a.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    const std::string path =
        prefix.empty() ? f->name() : absl::StrCat(prefix, ".", f->name());
    if (prefix.empty() && !IsMutable(f->name())) continue;
    const auto* ra = a.GetReflection();
    if (!f->is_repeated() &&
        f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        f->message_type()->full_name().rfind("grod.", 0) == 0) {
      Diff(ra->GetMessage(a, f), b.GetReflection()->GetMessage(b, f), path,
           out);
      continue;
    }
    google::protobuf::util::MessageDifferencer diff;
    // Compare just this field: everything else is ignored.
    for (int j = 0; j < d->field_count(); ++j) {
      if (j != i) diff.IgnoreField(d->field(j));
    }
    if (!diff.Compare(a, b)) out->add_paths(path);
  }
}

}  // namespace

absl::StatusOr<FieldMask> ResolveUpdateMask(const v1::Tenant& patch,
                                            const FieldMask& mask) {
  FieldMask out;
  const auto* d = v1::Tenant::descriptor();
  if (mask.paths_size() == 0) {
    for (const char* name : kMutable) {
      if (Populated(patch, d->FindFieldByName(name))) out.add_paths(name);
    }
    if (out.paths_size() == 0) {
      return FieldViolation(
          "update_mask",
          "no paths and no populated field in tenant: nothing to update "
          "(name fields in update_mask, or \"*\" to replace all)");
    }
    return out;
  }
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& p = mask.paths(i);
    if (p == "*") {
      if (mask.paths_size() != 1) {
        return BadPath(i, "\"*\" (replace everything) must be the only path");
      }
      for (const char* name : kMutable) out.add_paths(name);
      return out;
    }
    const std::string top = p.substr(0, p.find('.'));
    if (top == "name") return BadPath(i, "name is immutable");
    std::vector<const FieldDescriptor*> fields;
    if (!FieldMaskUtil::GetFieldDescriptors(d, p, &fields)) {
      return BadPath(
          i, absl::StrCat("no field \"", p, "\" in grod.v1.Tenant (mutable: ",
                          absl::StrJoin(kMutable, ", "),
                          " and the fields inside quotas and flush_policy)"));
    }
    if (!IsMutable(top)) {
      return BadPath(i, absl::StrCat("\"", p, "\" is output only"));
    }
    out.add_paths(p);
  }
  FieldMask canonical;
  FieldMaskUtil::ToCanonicalForm(out, &canonical);
  return canonical;
}

v1::Tenant ApplyUpdateMask(const v1::Tenant& current, const v1::Tenant& patch,
                           const FieldMask& resolved) {
  v1::Tenant out = current;
  FieldMaskUtil::MergeOptions opts;
  opts.set_replace_message_fields(true);
  opts.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(patch, resolved, opts, &out);
  return out;
}

FieldMask ChangedFields(const v1::Tenant& a, const v1::Tenant& b) {
  FieldMask out;
  Diff(a, b, "", &out);
  return out;
}

bool SameSettings(const v1::Tenant& a, const v1::Tenant& b) {
  return ChangedFields(a, b).paths_size() == 0;
}

}  // namespace grod::controlplane
