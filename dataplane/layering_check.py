#!/usr/bin/env python3
"""Checks that dependencies between dataplane folders point one way.

Reads every #include "..." line of the .h/.cc files under <root>/dataplane
(a *_test.cc file counts for the second rule only: nothing includes a test)
and fails (exit 1, one line per problem) when
  - the folders include each other in a cycle (e.g. tenant/ -> runtime/ ->
    tenant/): each edge of the cycle is printed with a file and line that
    makes it;
  - data-plane code reaches into the layers above it or beside it
    (controlplane/, grod/, metrics/, cli/, proto/, tests/): the data plane
    depends on common/ and DPDK only, and its tests share fixtures through
    dataplane/testing/.

Usage: layering_check.py <workspace root>
(It first checks itself on planted trees: a check that cannot fail is no
check.)
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
FORBIDDEN = ("controlplane/", "grod/", "metrics/", "cli/", "proto/", "tests/")


def folder_of(path):
    """'dataplane/runtime/worker.h' -> 'runtime'; 'dataplane/x.h' -> '.'."""
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else "."


def scan(root):
    """Returns ({folder: {folder: (file, line)}}, [problems])."""
    edges, problems, scanned = {}, [], 0
    base = os.path.join(root, "dataplane")
    for dirpath, _, files in os.walk(base):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            scanned += 1
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            src = folder_of(rel)
            with open(full, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    where = f"{rel}:{lineno}"
                    if target.startswith(FORBIDDEN):
                        problems.append(
                            f"{where}: includes {target}: the data plane "
                            "depends on common/ and DPDK only (shared test "
                            "fixtures belong in dataplane/testing/)")
                    if not target.startswith("dataplane/"):
                        continue
                    dst = folder_of(target)
                    # A test sits above every folder it includes (nothing
                    # includes a test): it makes no edge of the graph.
                    if dst != src and not name.endswith("_test.cc"):
                        edges.setdefault(src, {}).setdefault(dst, where)
    if scanned == 0:
        problems.append(f"no .h/.cc files under {base}: nothing checked")
    return edges, problems, scanned


def cycles(edges):
    """Strongly connected components of more than one folder (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(set(edges) | {w for d in edges.values() for w in d}):
        if v not in index:
            visit(v)
    return out


def check(root, stats=None):
    edges, problems, scanned = scan(root)
    if stats is not None:
        stats.update(files=scanned, folders=len(
            set(edges) | {w for d in edges.values() for w in d}))
    for comp in cycles(edges):
        members = set(comp)
        lines = [f"  {a}/ -> {b}/ ({where})"
                 for a in comp for b, where in sorted(edges.get(a, {}).items())
                 if b in members]
        problems.append("include cycle between dataplane folders " +
                        ", ".join(c + "/" for c in comp) +
                        " (make the dependency point one way):\n" +
                        "\n".join(lines))
    return problems


def self_test():
    """The check must be able to fail: a planted cycle and a planted
    upward include are found, and a clean tree passes."""
    def tree(files):
        root = tempfile.mkdtemp(prefix="layering_check_")
        for path, text in files.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        return root

    clean = tree({
        "dataplane/a/x.h": '#include "dataplane/b/y.h"\n#include <rte_mbuf.h>\n',
        "dataplane/b/y.h": '#include "common/dataplane.h"\n',
        "dataplane/top.cc": '#include "dataplane/a/x.h"\n',
    })
    cyclic = tree({
        "dataplane/a/x.h": '#include "dataplane/b/y.h"\n',
        "dataplane/b/y.h": '#include "dataplane/c/z.h"\n',
        "dataplane/c/z.cc": '  #  include "dataplane/a/x.h"\n',
    })
    upward = tree({"dataplane/a/x_test.cc": '#include "grod/sample_traffic.h"\n'})
    ok = True
    if check(clean):
        print("self-test: a clean tree was reported:", check(clean))
        ok = False
    found = check(cyclic)
    if not (len(found) == 1 and "a/, b/, c/" in found[0]
            and "dataplane/c/z.cc:1" in found[0]):
        print("self-test: the a -> b -> c -> a cycle was not reported:", found)
        ok = False
    found = check(upward)
    if not (len(found) == 1 and "dataplane/a/x_test.cc:1" in found[0]):
        print("self-test: the include of grod/ was not reported:", found)
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
    print(f"layering check: {stats['files']} files, {stats['folders']} "
          "dataplane folders include each other one way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
