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
import os
import re
import sys

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
SKIP_DIRS = {".git", "node_modules"}


def is_production_source(rel):
    parts = rel.split("/")
    name = parts[-1]
    if parts[0] not in FOLDERS or not name.endswith((".cc", ".h")):
        return False
    if re.search(r"_test\.(cc|h)$", name) or name.endswith("_test_util.cc"):
        return False
    return not any(p in TEST_DIRS for p in parts[:-1])


def allowed(lines, i):
    """A log-ok mark on line i or in the comment lines right above it."""
    if MARK.search(lines[i]):
        return True
    j = i - 1
    while j >= 0 and COMMENT.match(lines[j]):
        if MARK.search(lines[j]):
            return True
        j -= 1
    return False


def offences(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in SKIP_DIRS and not d.startswith("bazel-"))
        for f in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if rel in FACILITY or not is_production_source(rel):
                continue
            with open(os.path.join(root, rel), errors="replace") as fh:
                lines = fh.read().split("\n")
            for i, line in enumerate(lines):
                if COMMENT.match(line) or not PRINT.search(line):
                    continue
                if not allowed(lines, i):
                    yield "%s:%d: %s" % (rel, i + 1, line.strip())


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..")
    found = list(offences(root))
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
