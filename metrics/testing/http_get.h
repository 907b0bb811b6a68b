// A minimal blocking HTTP/1.0 GET for tests that scrape the exporter or
// query a Prometheus server on localhost (no curl dependency inside tests).
#ifndef GROD_METRICS_TESTING_HTTP_GET_H_
#define GROD_METRICS_TESTING_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"

namespace grod::metrics::testing {

// GETs http://127.0.0.1:<port><path> and returns the body of a 200 reply;
// another status is an error whose message starts with the status line.
// `headers`: extra request header lines, each ending in "\r\n".
absl::StatusOr<std::string> HttpGet(int port, const std::string& path,
                                    const std::string& headers = "");

// Percent-encodes a query-string value (PromQL has spaces, braces, quotes).
std::string UrlEncode(const std::string& s);

// A TCP port on 127.0.0.1 that was free a moment ago (for child processes
// that need a port on their command line).
int PickFreePort();

}  // namespace grod::metrics::testing

#endif  // GROD_METRICS_TESTING_HTTP_GET_H_
