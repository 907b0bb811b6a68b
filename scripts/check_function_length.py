#!/usr/bin/env python3
"""Fails if a production C++ function is longer than the limit.

A function that does not fit on a screen or two hides its steps; the
project's style is small functions with names that say what each step does.
Production code (not tests, not testing/ helpers, not benchmarks) under the
folders below must keep every function at or under LIMIT lines, counted from
the first line of its signature to its closing brace. A function that really
reads better whole is listed in ROOT/scripts/function_length_allowed.txt, one
`path:Name -- reason` a line -- keep that list short and honest; an entry
without a reason, or for a function that shrank under the limit or went away,
is reported too, so the list does not rot.

  scripts/check_function_length.py [--list N] [ROOT]
    (default ROOT: the repository root)
  --list N   print every function over N lines (longest first) and exit 0
Prints each offence as path:line: Name is N lines (limit L), exits 1 if any.

The parser is a brace matcher, not a C++ front end: it strips comments,
string and character literals, then treats a `{` whose header (the text since
the previous `;`, `{` or `}`) ends in a parameter list -- and is not a
control statement, lambda or initializer -- as a function body, when it is
met at namespace or class scope. That is enough for this code base's style
(clang-format, Google style); its own test pins what it recognises.
"""
import os
import re
import sys

LIMIT = 100
FOLDERS = ("cli", "common", "controlplane", "dataplane", "grod", "metrics")
SKIP_DIRS = {".git", "node_modules", "testing", "bench", "fuzz"}

ALLOWED_FILE = "scripts/function_length_allowed.txt"

CONTROL = re.compile(r"^(if|for|while|switch|catch|do|else|return|try)\b")
SCOPE = re.compile(r"^(?:template\s*<.*>\s*)?(namespace|class|struct|union|enum)\b"
                   r"|^extern\s*$")


def is_production(rel):
    name = os.path.basename(rel)
    if not name.endswith((".cc", ".h")):
        return False
    parts = rel.split("/")
    if parts[0] not in FOLDERS or SKIP_DIRS.intersection(parts[:-1]):
        return False
    return re.search(r"_test(_base)?\.(cc|h)$", name) is None


def strip(text):
    """Comments, strings and chars become spaces; newlines are kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'" and not (c == "'" and i > 0 and text[i - 1].isalnum()):
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def collapse(h):
    """Blanks nested (...) and {...} groups: "F(int a = 1) : b_{2}" -> "F() : b_{}"."""
    prev = None
    while prev != h:
        prev = h
        h = re.sub(r"\([^()]*\)", "\x01", h)
        h = re.sub(r"\{[^{}]*\}", "\x02", h)
    return h.replace("\x01", "()").replace("\x02", "{}")


def function_name(header):
    """The function's name if `header {` opens a function body, else None."""
    h = re.sub(r"\s+", " ", header).strip()
    h = re.sub(r"\[\[.*?\]\]|__attribute__\s*\(\(.*?\)\)", " ", h).strip()
    if "(" not in h or CONTROL.match(h) or SCOPE.match(h):
        return None
    t = collapse(h)
    if re.search(r"(?<!operator)[^=!<>]=(?!=)", t) or t.endswith(("=", ",")):
        return None  # an initializer or a lambda assigned to something
    if "](" in t.replace(" ", ""):
        return None  # a lambda
    if re.search(r"[\w>]\s*$", t) and not re.search(
            r"\)\s*(const|noexcept|override|final|mutable|&|&&|\s)*$", t):
        # Ends in a name: a return type after "->", or a brace-initialised
        # member after a constructor's ":" -- the latter is not a body.
        if not re.search(r"->\s*[\w:<>, *&]+$", t):
            return None
    m = re.match(r"^(.*?)(operator\s*\S+?|[~\w:]+)\s*\(\)", t)
    if not m:
        return None
    return m.group(2).replace(" ", "")


def without_preprocessor(code):
    """Blanks preprocessor lines (and their continuations)."""
    lines = code.split("\n")
    cont = False
    for k, line in enumerate(lines):
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            lines[k] = ""
    return "\n".join(lines)


def functions(text):
    """Yields (name, first line, line count) for each function body."""
    code = without_preprocessor(strip(text))
    scopes = []  # one entry per open brace: "ns", "fn" or "other"
    header_start = 0
    fn_start = None
    for i, c in enumerate(code):
        at_top = not scopes or scopes[-1] == "ns"
        if c == "{":
            kind = "other"
            if at_top:
                header = code[header_start:i]
                h = header.strip()
                if not h or SCOPE.match(h) or h.startswith("extern"):
                    kind = "ns"
                else:
                    name = function_name(header)
                    if name:
                        kind = "fn"
                        lead = len(header) - len(header.lstrip())
                        fn_start = (name, header_start + lead)
            scopes.append(kind)
            if kind != "other" or not at_top:
                header_start = i + 1
        elif c == "}":
            kind = scopes.pop() if scopes else "other"
            if kind == "fn" and fn_start:
                name, start = fn_start
                first = code.count("\n", 0, start) + 1
                last = code.count("\n", 0, i) + 1
                yield name, first, last - first + 1
                fn_start = None
            # A brace-initialiser at namespace or class scope ("int a_{0};",
            # a constructor's "b_{x}") belongs to the header it is in.
            if kind != "other" or (scopes and scopes[-1] not in ("ns",)):
                header_start = i + 1
            elif kind == "other" and scopes and scopes[-1] != "ns":
                header_start = i + 1
        elif c == ";" and at_top:
            header_start = i + 1


def scan(root):
    """Yields (rel, line, name, length) for every production function."""
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("bazel-"))
            for f in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                if not is_production(rel):
                    continue
                with open(os.path.join(root, rel), errors="replace") as fh:
                    text = fh.read()
                for name, line, length in functions(text):
                    yield rel, line, name, length


def read_allowed(root):
    """{path:Name: reason} from ALLOWED_FILE, and the malformed lines."""
    allowed, bad = {}, []
    path = os.path.join(root, ALLOWED_FILE)
    if not os.path.exists(path):
        return allowed, bad
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, reason = line.partition(" -- ")
            if not reason.strip():
                bad.append("%s:%d: '%s' has no reason (path:Name -- why it "
                           "stays whole)" % (ALLOWED_FILE, n, line))
                continue
            allowed[key.strip()] = reason.strip()
    return allowed, bad


def main(argv):
    args = argv[1:]
    list_over = None
    if args[:1] == ["--list"]:
        list_over = int(args[1])
        args = args[2:]
    root = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    found = list(scan(root))
    if list_over is not None:
        for rel, line, name, length in sorted(found, key=lambda r: -r[3]):
            if length > list_over:
                print("%5d  %s:%d %s" % (length, rel, line, name))
        return 0
    allowed, bad = read_allowed(root)
    seen = set()
    for rel, line, name, length in found:
        key = "%s:%s" % (rel, name)
        if length <= LIMIT:
            continue
        if key in allowed:
            seen.add(key)
            continue
        bad.append("%s:%d: %s is %d lines (limit %d): split it into named "
                   "steps, or list it in %s with the reason"
                   % (rel, line, name, length, LIMIT, ALLOWED_FILE))
    for key in sorted(set(allowed) - seen):
        bad.append("%s: %s lists it, but it is not over %d lines (or is "
                   "gone): remove the entry" % (key, ALLOWED_FILE, LIMIT))
    for b in bad:
        print(b)
    if bad:
        print("%d function length problem(s)" % len(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
