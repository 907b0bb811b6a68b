#!/usr/bin/env python3
"""Fails if test code waits with a fixed sleep instead of on a condition.

A fixed sleep in a test is a guess: too short on a loaded machine (the test
flakes), too long everywhere else. Tests wait on what they expect instead --
a counter, a log line, a socket, a process exit -- through the shared
helpers, which are the only places allowed to sleep:
  common/testing/wait_for.{h,cc}   WaitFor(condition, timeout) for C++
  tests/testing/lib.sh             wait_for SECONDS COMMAND... for shell
  tests/checker/wait.py            wait_for(condition, timeout) for Python
A sleep that really is needed (pacing a sender, letting time pass where time
is what is tested, giving a failing run's peer a moment to print) carries a
`sleep-ok: <why>` comment on its line or in the comment just above it.

  scripts/check_test_waits.py [ROOT]   (default: the repository root)
Prints each offending line as path:line: text, exits 1 if there is any.
"""
import os
import re
import sys

import source_scan

HELPERS = {
    "common/testing/wait_for.cc",
    "common/testing/wait_for.h",
    "tests/testing/lib.sh",
    "tests/checker/wait.py",
}
# Calls that sleep, in C++, shell and Python.
SLEEP = re.compile(
    r"\b(sleep_for|SleepFor|usleep|nanosleep|rte_delay_us_sleep|rte_delay_ms)\s*\("
    r"|\btime\.sleep\s*\("
    r"|(^|[;&|({]|\bthen|\bdo|\belse)\s*sleep\s+[\d\"$]")
MARK = re.compile(r"sleep-ok:\s*\S")
COMMENT = re.compile(r"^\s*(//|#)")


def is_test_source(rel):
    """Test code: *_test.*, anything under tests/ or a testing/ folder."""
    name = os.path.basename(rel)
    if not name.endswith((".cc", ".h", ".sh", ".py")):
        return False
    parts = rel.split("/")
    return (re.search(r"_test\.(cc|sh|py)$", name) is not None
            or parts[0] == "tests" or "testing" in parts[:-1])


def main(argv):
    root = argv[1] if len(argv) > 1 else source_scan.default_root(__file__)
    found = list(source_scan.offences(
        root, lambda rel: rel not in HELPERS and is_test_source(rel), SLEEP, MARK, COMMENT))
    for o in found:
        print(o)
    if found:
        print("check_test_waits: %d fixed sleep(s) in test code. Wait on a "
              "condition with WaitFor (common/testing/wait_for.h) or wait_for "
              "(tests/testing/lib.sh); if the sleep is really needed, say why "
              "in a `sleep-ok: <reason>` comment." % len(found))
        return 1
    print("check_test_waits: no fixed sleeps in test code")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
