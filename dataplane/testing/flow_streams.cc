#include "dataplane/testing/flow_streams.h"

#include <arpa/inet.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/testing/inet_checksum.h"

namespace grod::testing {
namespace {

uint16_t Be16(const uint8_t* p) { return (p[0] << 8) | p[1]; }

bool ChecksumOk(const uint8_t* p, size_t n, uint32_t sum) {
  return Fold(OnesSum(p, n, sum)) == 0xffff;
}

std::string Addr(const uint8_t* p, bool v6) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, p, buf, sizeof(buf));
  return buf;
}

// Parses from an Ethernet header; recurses once into VXLAN.
bool ParseFrame(const uint8_t* p, size_t n, uint16_t vxlan_port,
                const std::string& prefix, FlowStreams* out, bool* bad_csum,
                std::string* flow, std::string* payload, bool* is_udp) {
  if (n < 14) return false;
  size_t off = 12;
  uint16_t type = Be16(p + off);
  std::string vlans;
  while (type == 0x8100 || type == 0x88a8) {
    if (off + 6 > n) return false;
    absl::StrAppend(&vlans, "vlan=", Be16(p + off + 2) & 0xfff, " ");
    off += 4;
    type = Be16(p + off);
  }
  off += 2;
  bool v6 = type == 0x86dd;
  if (type != 0x0800 && !v6) return false;
  const uint8_t* ip = p + off;
  size_t ip_len, hdr;
  uint8_t proto;
  uint32_t pseudo;
  if (!v6) {
    if (off + 20 > n) return false;
    hdr = (ip[0] & 0xf) * 4;
    ip_len = Be16(ip + 2);
    proto = ip[9];
    if (off + ip_len > n || hdr < 20) return false;
    if (!ChecksumOk(ip, hdr, 0)) *bad_csum = true;
    if (Be16(ip + 6) & 0x3fff) return false;  // fragments: not a stream here
    pseudo = 0;
    for (int i = 12; i < 20; i += 2) pseudo += Be16(ip + i);
  } else {
    if (off + 40 > n) return false;
    hdr = 40;
    ip_len = 40 + Be16(ip + 4);
    proto = ip[6];
    if (off + ip_len > n) return false;
    pseudo = 0;
    for (int i = 8; i < 40; i += 2) pseudo += Be16(ip + i);
  }
  const uint8_t* l4 = ip + hdr;
  const size_t l4_len = ip_len - hdr;
  pseudo += proto + l4_len;
  const int src_off = v6 ? 8 : 12, dst_off = v6 ? 24 : 16, alen = v6 ? 16 : 4;
  const std::string src = Addr(ip + src_off, v6), dst = Addr(ip + dst_off, v6);
  if (proto == 6) {
    if (l4_len < 20) return false;
    const size_t thl = (l4[12] >> 4) * 4;
    if (thl < 20 || thl > l4_len) return false;
    if (!ChecksumOk(l4, l4_len, pseudo)) *bad_csum = true;
    *flow = absl::StrCat(prefix, vlans, "tcp", v6 ? 6 : 4, " ", src, ":",
                         Be16(l4), ">", dst, ":", Be16(l4 + 2));
    payload->assign(reinterpret_cast<const char*>(l4 + thl), l4_len - thl);
    *is_udp = false;
    return true;
  }
  if (proto == 17) {
    if (l4_len < 8) return false;
    const uint16_t dport = Be16(l4 + 2);
    if (dport == vxlan_port && prefix.empty() && l4_len >= 16) {
      const uint32_t vni = (l4[12] << 16) | (l4[13] << 8) | l4[14];
      return ParseFrame(
          l4 + 16, l4_len - 16, vxlan_port,
          absl::StrCat(vlans, "vni=", vni, " ", src, ">", dst, " "), out,
          bad_csum, flow, payload, is_udp);
    }
    if (Be16(l4 + 6) != 0 && !ChecksumOk(l4, l4_len, pseudo)) {
      *bad_csum = true;
    }
    *flow = absl::StrCat(prefix, vlans, "udp", v6 ? 6 : 4, " ", src, ":",
                         Be16(l4), ">", dst, ":", dport);
    payload->assign(reinterpret_cast<const char*>(l4 + 8), l4_len - 8);
    *is_udp = true;
    (void)alen;
    return true;
  }
  return false;
}

}  // namespace

FlowStreams SplitFlows(const std::vector<std::vector<uint8_t>>& frames,
                       uint16_t vxlan_port) {
  FlowStreams fs;
  for (const std::vector<uint8_t>& f : frames) {
    std::string flow, payload;
    bool bad = false, is_udp = false;
    if (!ParseFrame(f.data(), f.size(), vxlan_port, "", &fs, &bad, &flow,
                    &payload, &is_udp)) {
      ++fs.unparsed;
      continue;
    }
    if (bad) ++fs.bad_checksums;
    std::string& s = fs.streams[flow];
    if (is_udp) {
      s.push_back(static_cast<char>(payload.size() >> 8));
      s.push_back(static_cast<char>(payload.size() & 0xff));
    }
    s += payload;
    ++fs.frames[flow];
    size_t& mx = fs.max_payload[flow];
    if (payload.size() > mx) mx = payload.size();
  }
  return fs;
}

std::string DiffStreams(const FlowStreams& want, const FlowStreams& got) {
  std::string out;
  for (const auto& [flow, w] : want.streams) {
    auto it = got.streams.find(flow);
    if (it == got.streams.end()) {
      absl::StrAppend(&out, flow, ": missing (", w.size(), " bytes)\n");
      continue;
    }
    const std::string& g = it->second;
    if (g == w) continue;
    size_t at = 0;
    while (at < g.size() && at < w.size() && g[at] == w[at]) ++at;
    absl::StrAppend(&out, flow, ": ", g.size(), " bytes instead of ", w.size(),
                    ", first difference at offset ", at, "\n");
  }
  for (const auto& [flow, g] : got.streams) {
    if (!want.streams.contains(flow)) {
      absl::StrAppend(&out, flow, ": unexpected (", g.size(), " bytes)\n");
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<uint8_t>>> ReadPcap(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot be opened");
  const std::string data((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  if (data.size() < 24) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a pcap file (", data.size(), " bytes)"));
  }
  uint32_t magic;
  std::memcpy(&magic, data.data(), 4);
  if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
    return absl::InvalidArgumentError(path + ": unsupported pcap magic");
  }
  std::vector<std::vector<uint8_t>> frames;
  size_t off = 24;
  while (off + 16 <= data.size()) {
    uint32_t caplen;
    std::memcpy(&caplen, data.data() + off + 8, 4);
    off += 16;
    if (off + caplen > data.size()) {
      return absl::InvalidArgumentError(path + ": truncated record");
    }
    frames.emplace_back(data.begin() + off, data.begin() + off + caplen);
    off += caplen;
  }
  return frames;
}

}  // namespace grod::testing
