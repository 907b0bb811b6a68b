"""The tree walk the source checks share (check_logging.py, check_test_waits.py).

Each check reports the lines of the files it cares about that match its
pattern, unless the line, or the comment lines right above it, carry its
escape mark (e.g. `log-ok: <why>`).  Comment lines themselves never count.
"""
import os

SKIP_DIRS = {".git", "node_modules"}


def allowed(lines, i, mark, comment):
    """A mark on line i or in the comment lines right above it."""
    if mark.search(lines[i]):
        return True
    j = i - 1
    while j >= 0 and comment.match(lines[j]):
        if mark.search(lines[j]):
            return True
        j -= 1
    return False


def offences(root, wanted, pattern, mark, comment):
    """path:line: text for each unmarked match in the files wanted(rel) picks."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in SKIP_DIRS and not d.startswith("bazel-"))
        for f in sorted(filenames):
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            if not wanted(rel):
                continue
            with open(path, errors="replace") as fh:
                lines = fh.read().split("\n")
            for i, line in enumerate(lines):
                if comment.match(line) or not pattern.search(line):
                    continue
                if not allowed(lines, i, mark, comment):
                    yield "%s:%d: %s" % (rel, i + 1, line.strip())


def default_root(script):
    """The repository root: the parent of the scripts/ folder."""
    return os.path.join(os.path.dirname(os.path.abspath(script)), "..")
