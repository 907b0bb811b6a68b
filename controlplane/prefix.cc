#include "controlplane/prefix.h"

#include <arpa/inet.h>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace grod::controlplane {

absl::StatusOr<IpPrefix> ParseIpPrefix(absl::string_view text) {
  const size_t slash = text.find('/');
  if (slash == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a CIDR prefix (missing /length)"));
  }
  // inet_pton wants a NUL-terminated string; copy the address part.
  const std::string addr(text.substr(0, slash));
  const absl::string_view len_text = text.substr(slash + 1);
  IpPrefix p;
  if (inet_pton(AF_INET, addr.c_str(), p.addr.data()) == 1) {
    p.is_v6 = false;
  } else if (inet_pton(AF_INET6, addr.c_str(), p.addr.data()) == 1) {
    p.is_v6 = true;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": \"", addr, "\" is not an IP address"));
  }
  const int max_len = p.is_v6 ? 128 : 32;
  int len = -1;
  // SimpleAtoi accepts a leading '+' and spaces; a prefix length does not.
  if (len_text.empty() || len_text.size() > 3 ||
      len_text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(len_text, &len) || len > max_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": prefix length must be 0..", max_len));
  }
  p.length = static_cast<uint8_t>(len);
  // Host bits must be zero so that one prefix has exactly one spelling.
  const int bytes = p.is_v6 ? 16 : 4;
  for (int bit = len; bit < bytes * 8; ++bit) {
    if (p.addr[bit / 8] & (0x80 >> (bit % 8))) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\": host bits are set (did you mean ",
                       FormatIpPrefix([&] {
                         IpPrefix masked = p;
                         for (int b = len; b < bytes * 8; ++b) {
                           masked.addr[b / 8] &= ~(0x80 >> (b % 8));
                         }
                         return masked;
                       }()),
                       "?)"));
    }
  }
  return p;
}

std::string FormatIpPrefix(const IpPrefix& prefix) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(prefix.is_v6 ? AF_INET6 : AF_INET, prefix.addr.data(), buf,
            sizeof(buf));
  return absl::StrCat(buf, "/", prefix.length);
}

}  // namespace grod::controlplane
