#!/usr/bin/env python3
"""Fails if grod's production code prints instead of logging.

grod logs through one facility (docs/OPERATIONS.md, "Logs"): GROD_LOG
(common/log.h) in code that must not depend on DPDK, GROD_DP_LOG
(dataplane/runtime/log.h, DPDK's rte_log) in the data plane. Both follow
--log-level and go wherever DPDK's log goes. A stray fprintf(stderr, ...) or
std::cerr does neither. This check reads the production sources of common/,
dataplane/, controlplane/, metrics/ and grod/ (not tests, testing/, bench/ or
fuzz/ folders) and reports every direct write to stderr or stdout, except:
  common/log.cc      the facility's own stderr sink
  a line carrying    `log-ok: <why>` (or in the comment just above it):
                     output that is not a log line, such as --check_config
                     printing the config or a test helper's usage text.

  scripts/check_logging.py [ROOT]   (default: the repository root)
Prints each offending line as path:line: text, exits 1 if there is any.
"""
import re
import sys

import source_scan

FOLDERS = ("common", "dataplane", "controlplane", "metrics", "grod")
FACILITY = {"common/log.cc"}
TEST_DIRS = {"testing", "bench", "fuzz"}
# Writes to stderr or stdout in C++.
PRINT = re.compile(
    r"\b(std::)?fprintf\s*\(\s*(stderr|stdout)\b"
    r"|\b(std::)?(fputs|fputc|fwrite)\s*\([^;]*\b(stderr|stdout)\s*\)"
    r"|\babsl::FPrintF\s*\(\s*(stderr|stdout)\b"
    r"|\bstd::(cerr|clog|cout)\b"
    r"|(^|[^\w.>:])(std::)?(printf|puts|perror)\s*\("
    r"|(^|[^\w.>])::(printf|puts|perror)\s*\("
    r"|\bwrite\s*\(\s*(1|2|STDOUT_FILENO|STDERR_FILENO)\s*,")
MARK = re.compile(r"log-ok:\s*\S")
COMMENT = re.compile(r"^\s*//")


def is_production_source(rel):
    parts = rel.split("/")
    name = parts[-1]
    if parts[0] not in FOLDERS or not name.endswith((".cc", ".h")):
        return False
    if re.search(r"_test\.(cc|h)$", name) or name.endswith("_test_util.cc"):
        return False
    return not any(p in TEST_DIRS for p in parts[:-1])


def main(argv):
    root = argv[1] if len(argv) > 1 else source_scan.default_root(__file__)
    found = list(source_scan.offences(
        root, lambda rel: rel not in FACILITY and is_production_source(rel), PRINT, MARK, COMMENT))
    for o in found:
        print(o)
    if found:
        print("check_logging: %d direct write(s) to stderr/stdout in "
              "production code. Log with GROD_LOG (common/log.h) or, in the "
              "data plane, GROD_DP_LOG (dataplane/runtime/log.h); if the "
              "output is not a log line, say why in a `log-ok: <reason>` "
              "comment." % len(found))
        return 1
    print("check_logging: production code logs through the facility")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
