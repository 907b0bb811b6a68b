"""Reads the dependency labels out of Bazel BUILD files, without Bazel.

The layering check (layering_check.py) runs as a test inside Bazel's
sandbox, where `bazel query` is not available, so it reads the BUILD files
as text. Our BUILD files are plain Starlark: one rule call per top-level
statement (`cc_library(` at the start of a line, or `[cc_test(` for a list
comprehension), attributes as `name = value`. That is all this parser
relies on; a rule it cannot read is reported, not skipped.
"""
import re

RULE_START = re.compile(r"^\[?(\w+)\(", re.M)
NAME = re.compile(r'^\s*name\s*=\s*(?:"([^"]+)"|(\w+))', re.M)
TESTONLY = re.compile(r"^\s*testonly\s*=\s*True", re.M)
# A list attribute whose labels say who may use this rule, not what it uses.
VISIBILITY = re.compile(r"\b(?:default_)?visibility\s*=\s*\[[^\]]*\]", re.S)
LABEL = re.compile(r'"((?://|@|:)[^"]*)"')
TEST_KINDS = ("cc_test", "sh_test", "py_test", "cc_fuzz_test")
# Calls that are not rules (they name nothing and depend on nothing);
# layering_sources() (dataplane/layering.bzl) is a filegroup of the
# package's own files.
NOT_RULES = ("package", "load", "exports_files", "licenses",
             "layering_sources")


class Rule:
    """One rule of a BUILD file: its kind, name, whether it is a test (a
    *_test rule or testonly), and the labels it depends on (deps, data,
    srcs, args: every label but its visibility) with their lines."""

    def __init__(self, kind, name, line, is_test, labels):
        self.kind, self.name, self.line = kind, name, line
        self.is_test, self.labels = is_test, labels

    def __repr__(self):
        return f"Rule({self.kind} {self.name}:{self.line})"


def parse(text):
    """Returns ([Rule], [problem]) for the text of one BUILD file."""
    rules, problems = [], []
    starts = list(RULE_START.finditer(text))
    for i, m in enumerate(starts):
        kind = m.group(1)
        if kind in NOT_RULES:
            continue
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[m.start():end]
        line = text.count("\n", 0, m.start()) + 1
        name = NAME.search(body)
        if not name:
            problems.append(f"line {line}: a {kind}( without a name")
            continue
        labels = []
        stripped = VISIBILITY.sub(lambda v: "\n" * v.group(0).count("\n"),
                                  body)
        for lm in LABEL.finditer(stripped):
            labels.append((lm.group(1),
                           line + stripped.count("\n", 0, lm.start())))
        rules.append(Rule(kind, name.group(1) or name.group(2), line,
                          kind in TEST_KINDS or bool(TESTONLY.search(body)),
                          labels))
    return rules, problems


def package_of(label, current):
    """'//dataplane/runtime:eal' -> 'dataplane/runtime'; '//dataplane/gro'
    -> 'dataplane/gro'; ':eal' -> current; '@system//:dpdk' -> None (an
    external repository)."""
    if label.startswith("@"):
        return None
    if label.startswith(":"):
        return current
    return label[2:].split(":", 1)[0]
