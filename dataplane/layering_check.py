#!/usr/bin/env python3
"""Checks that dependencies between dataplane folders point one way.

The layers, top to bottom: dpdk_dataplane (dataplane/ itself) -> control/
-> runtime/ -> tenant/ -> gro/ (then common/ and DPDK). A folder may use
the folders below it, never one above it. traffic/ uses no dataplane
folder and anyone may use it; testing/ and bench/ sit on top of all of
them: only tests (and testonly fixtures) use testing/, nothing uses bench/.

Reads two graphs under <root>/dataplane and fails (exit 1, one line per
problem, each with the file and line that makes it) on an edge against
that order:
  - the #include "..." lines of the .h/.cc files (a file of a test --
    *_test.cc, *_test_base.h -- makes no edge: nothing includes a test);
  - the labels of the BUILD.bazel rules (deps, data, ...; a test or
    testonly rule makes no edge), read as text by build_deps.py.
In both, data-plane code and its tests must not reach into the layers
above or beside the data plane (controlplane/, grod/, metrics/, cli/,
proto/, tests/): the data plane depends on common/ and DPDK only, and its
tests share fixtures through dataplane/testing/. A folder not in the order
above is reported too (add it to LAYERS, LEAVES or ON_TOP).

Bazel itself enforces the same order through the packages' visibility;
this check also covers the #includes and says which line is wrong.

Usage: layering_check.py <workspace root>
(It first checks itself on planted trees: a check that cannot fail is no
check.)
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import build_deps  # noqa: E402

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
FORBIDDEN = ("controlplane/", "grod/", "metrics/", "cli/", "proto/", "tests/")
LAYERS = [".", "control", "runtime", "tenant", "gro"]  # top to bottom
LEAVES = ("traffic",)  # use no dataplane folder; anyone may use them
ON_TOP = ("bench", "testing")  # may use any folder


def folder_of(path):
    """'dataplane/runtime/worker.h' -> 'runtime'; 'dataplane/x.h' -> '.'."""
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else "."


def shown(folder):
    return "dataplane/" if folder == "." else folder + "/"


def against_order(src, dst):
    """Why the edge src/ -> dst/ goes against the layering, or None."""
    if src == dst:
        return None
    for f in (src, dst):
        if f not in LAYERS and f not in LEAVES and f not in ON_TOP:
            return (f"{shown(f)} is in no layer (add it to LAYERS, LEAVES or "
                    "ON_TOP in dataplane/layering_check.py)")
    if dst == "bench":
        return "nothing depends on the benchmarks"
    if dst == "testing" and src != "bench":
        return "only tests and testonly fixtures use dataplane/testing/"
    if src in ON_TOP or dst in LEAVES:
        return None
    if src in LEAVES:
        return f"{shown(src)} uses no other dataplane folder"
    if LAYERS.index(src) > LAYERS.index(dst):
        return (f"{shown(src)} is below {shown(dst)} (" +
                " -> ".join(shown(f) for f in LAYERS) + ")")
    return None


def forbidden(target, where, what):
    """target: a path ('grod/x.h') or a package with a slash ('grod/')."""
    if target.startswith(FORBIDDEN):
        return [f"{where}: {what}: the data plane depends on "
                "common/ and DPDK only (shared test fixtures belong in "
                "dataplane/testing/)"]
    return []


def is_test_file(name):
    return name.endswith("_test.cc") or "_test_" in name


def scan_includes(root, edges):
    problems, scanned = [], 0
    for dirpath, _, files in os.walk(os.path.join(root, "dataplane")):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            scanned += 1
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            with open(os.path.join(root, rel), encoding="utf-8",
                      errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    where = f"{rel}:{lineno}"
                    problems += forbidden(m.group(1), where,
                                          "includes " + m.group(1))
                    if (m.group(1).startswith("dataplane/")
                            and not is_test_file(name)):
                        edges.append((folder_of(rel), folder_of(m.group(1)),
                                      where, "includes " + m.group(1)))
    return problems, scanned


def scan_builds(root, edges):
    problems, scanned = [], 0
    for dirpath, _, files in os.walk(os.path.join(root, "dataplane")):
        if "BUILD.bazel" not in files:
            continue
        scanned += 1
        rel = os.path.relpath(os.path.join(dirpath, "BUILD.bazel"), root)
        package = os.path.dirname(rel)
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            rules, bad = build_deps.parse(f.read())
        problems += [f"{rel}: {p}" for p in bad]
        for rule in rules:
            for label, line in rule.labels:
                dst = build_deps.package_of(label, package)
                if dst is None:
                    continue
                where = f"{rel}:{line}"
                problems += forbidden(dst + "/", where,
                                      f"{rule.name} depends on {label}")
                if dst.split("/")[0] == "dataplane" and not rule.is_test:
                    edges.append((folder_of(package + "/BUILD.bazel"),
                                  folder_of(dst + "/BUILD.bazel"), where,
                                  f"{rule.name} depends on {label}"))
    return problems, scanned


def check(root, stats=None):
    edges = []
    problems, files = scan_includes(root, edges)
    more, builds = scan_builds(root, edges)
    problems += more
    if files == 0 or builds == 0:
        problems.append(f"no .h/.cc files or no BUILD.bazel under "
                        f"{root}/dataplane: nothing checked")
    for src, dst, where, what in edges:
        why = against_order(src, dst)
        if why:
            problems.append(f"{where}: {what}: {why}")
    if stats is not None:
        stats.update(files=files, builds=builds, edges=len(edges))
    return problems


def self_test():
    """The check must be able to fail: each planted wrong edge is found
    with its file and line, and a clean tree passes."""
    def tree(files):
        root = tempfile.mkdtemp(prefix="layering_check_")
        for path, text in files.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        return root

    build = 'cc_library(\n    name = "x",\n    deps = [\n        "{}",\n    ],\n)\n'
    test = 'cc_test(\n    name = "t",\n    deps = ["{}"],\n)\n'
    clean = {
        "dataplane/runtime/x.h": '#include "dataplane/gro/y.h"\n#include <rte_mbuf.h>\n',
        "dataplane/runtime/BUILD.bazel": (
            'load("//dataplane:layering.bzl", "layering_sources")\n\n' +
            build.format("//dataplane/gro") + "\nlayering_sources()\n"),
        "dataplane/runtime/x_test.cc": '#include "dataplane/testing/f.h"\n',
        "dataplane/gro/y.h": '#include "common/dataplane.h"\n',
        "dataplane/gro/BUILD.bazel": (
            'package(default_visibility = ["//dataplane/testing:__pkg__"])\n' +
            test.format("//dataplane/testing:f")),
        "dataplane/dpdk.cc": '#include "dataplane/control/z.h"\n',
        "dataplane/BUILD.bazel": build.format("//dataplane/tenant:c"),
    }
    planted = [  # (path, text, what the report must name)
        ("dataplane/tenant/c.cc", '\n  #  include "dataplane/runtime/x.h"\n',
         "dataplane/tenant/c.cc:2: includes dataplane/runtime/x.h: tenant/ is below runtime/"),
        ("dataplane/gro/BUILD.bazel", build.format("//dataplane/runtime:eal"),
         "dataplane/gro/BUILD.bazel:4: x depends on //dataplane/runtime:eal: gro/ is below runtime/"),
        ("dataplane/runtime/BUILD.bazel", build.format("//dataplane/testing:f"),
         "dataplane/runtime/BUILD.bazel:4: x depends on //dataplane/testing:f: only tests"),
        ("dataplane/gro/x_test.cc", '#include "grod/sample_traffic.h"\n',
         "dataplane/gro/x_test.cc:1: includes grod/sample_traffic.h: the data plane"),
        ("dataplane/runtime/BUILD.bazel", test.format("//tests/testing:grod"),
         "dataplane/runtime/BUILD.bazel:3: t depends on //tests/testing:grod: the data plane"),
        ("dataplane/extra/e.h", '#include "dataplane/gro/y.h"\n',
         "extra/ is in no layer"),
    ]
    ok = True
    if check(tree(clean)):
        print("self-test: a clean tree was reported:", check(tree(clean)))
        ok = False
    for path, text, expected in planted:
        found = check(tree(dict(clean, **{path: text})))
        if not (len(found) == 1 and expected in found[0]):
            print(f"self-test: {path} planted, expected one report "
                  f"'{expected}...', got: {found}")
            ok = False
    return ok


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if not self_test():
        return 1
    stats = {}
    problems = check(sys.argv[1], stats)
    for p in problems:
        print(p)
    if problems:
        print(f"layering check: {len(problems)} problem(s)")
        return 1
    print(f"layering check: {stats['files']} files and {stats['builds']} "
          f"BUILD files, {stats['edges']} edges between or within dataplane "
          "folders, all one way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
