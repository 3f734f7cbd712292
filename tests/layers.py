#!/usr/bin/env python3
"""Enforces the layering rule of ARCHITECTURE.md, for the build and for make check.

  tests/layers.py includes [ROOT]   every #include "..." of the tree obeys the rule
  tests/layers.py symbols BUILD     no archive needs a symbol a higher layer defines

Exits 1 naming each offending include (FILE:LINE) or symbol (object, symbol,
defining layer), 0 when the tree is clean.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if len(sys.argv) == 3 and sys.argv[1] == "includes":
    ROOT = os.path.abspath(sys.argv[2])  # another tree: tests/layers_test.sh

# anycast-lab's layers, bottom to top: a layer may call and include only
# itself and the layers before it.
HARNESS_LAYERS = ["lab", "sys", "topo", "routing", "results", "run", "cli"]

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def area_of(path):
    """The area a file or header belongs to: 'ah', 'lib', 'servers', 'clients',
    'harness/<layer>', 'tests/unit' (shared test helpers) or None."""
    parts = path.split("/")
    if parts[0] == "include" and len(parts) > 2 and parts[1] == "ah":
        return "ah"
    if parts[0] in ("lib", "servers", "clients"):
        return parts[0]
    if parts[0] == "harness" and len(parts) > 2 and parts[1] in HARNESS_LAYERS:
        return "harness/" + parts[1]
    if parts[0] == "tests" and len(parts) > 1 and parts[1] == "unit":
        return "tests/unit"
    return None


def rank(area):
    return HARNESS_LAYERS.index(area.split("/")[1])


def may_use(user, target, private):
    """Whether code of area user may include a header of area target; private
    headers (*_int.h) are for their own folder only."""
    if target == "ah":
        return True
    if private:
        return user == target
    if user == target:
        return True
    if user.startswith("harness/") and target.startswith("harness/"):
        return rank(target) <= rank(user)
    return False


def test_area(path):
    """The area a unit test tests, from its folder: tests/unit/<area>/test_x.c."""
    rel = os.path.dirname(path)[len("tests/unit/"):]
    return rel if rel else None


def tracked_sources():
    out = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "--", "*.c", "*.h"],
        cwd=ROOT, capture_output=True, text=True, check=False)
    top = subprocess.run(["git", "-C", ROOT, "rev-parse", "--show-toplevel"],
                         capture_output=True, text=True, check=False).stdout.strip()
    if out.returncode == 0 and out.stdout and os.path.realpath(top) == os.path.realpath(ROOT):
        files = out.stdout.split()
    else:  # not a git checkout (a release tarball): walk the tree
        files = []
        for top in ("harness", "servers", "clients", "lib", "include", "tests", "bench"):
            for d, _, names in os.walk(os.path.join(ROOT, top)):
                files += [os.path.relpath(os.path.join(d, n), ROOT)
                          for n in names if n.endswith((".c", ".h"))]
    return sorted(f for f in files if os.path.exists(os.path.join(ROOT, f)))


def check_includes():
    bad = []
    for f in tracked_sources():
        here = os.path.dirname(f)
        user = area_of(f)
        if f.startswith("tests/unit/") and os.path.dirname(f) != "tests/unit":
            user = test_area(f)
        with open(os.path.join(ROOT, f), encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                where = "%s:%d: #include \"%s\"" % (f, n, inc)
                if ".." in inc.split("/"):
                    bad.append(where + ": uses ../; include root-relative paths")
                    continue
                if "/" not in inc:
                    if not os.path.exists(os.path.join(ROOT, here, inc)):
                        bad.append(where + ": a bare name must be a header of the same folder")
                    continue
                path = "include/" + inc if inc.startswith("ah/") else inc
                if not os.path.exists(os.path.join(ROOT, path)):
                    bad.append(where + ": no such header from the project root or include/")
                    continue
                target = area_of(path)
                private = path.endswith("_int.h")
                if target is None or user is None:
                    continue
                if target == "tests/unit":
                    continue
                if f.startswith(("tests/fuzz/", "tests/tools/", "bench/")) and not private:
                    continue  # programs of their own: any public header
                if not may_use(user, target, private):
                    why = "private to its folder" if private else "a layer above or another program"
                    bad.append("%s: %s may not include %s (%s)" % (where, user, target, why))
    return bad


def nm(args, path):
    out = subprocess.run(["nm"] + args + [path], capture_output=True, text=True, check=True)
    return out.stdout


def check_symbols(build):
    archives = {"ah": "libah.a", "servers": "libserver.a", "clients": "libclient.a"}
    for layer in HARNESS_LAYERS:
        archives["harness/" + layer] = "libharness_%s.a" % layer
    defined = {}
    for area, name in archives.items():
        path = os.path.join(build, name)
        for line in nm(["-g", "--defined-only", "-A"], path).splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[-2] not in ("U", "w", "v"):
                defined.setdefault(fields[-1], area)
    bad = []
    for area, name in archives.items():
        path = os.path.join(build, name)
        for line in nm(["-u", "-A"], path).splitlines():
            fields = line.split()
            sym = fields[-1]
            owner = defined.get(sym)
            if owner is None or may_use(area, owner, False):
                continue
            obj = fields[0].rstrip(":").split(":")[-1]
            bad.append("%s (%s) calls %s, defined in %s: a layer above or another program"
                       % (obj, area, sym, owner))
    return bad


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("includes", "symbols"):
        sys.stderr.write("usage: tests/layers.py includes | symbols BUILD_DIR\n")
        return 2
    if sys.argv[1] == "includes":
        if len(sys.argv) > 3:
            sys.stderr.write("usage: tests/layers.py includes [ROOT]\n")
            return 2
        bad = check_includes()
    else:
        if len(sys.argv) != 3:
            sys.stderr.write("usage: tests/layers.py symbols BUILD_DIR\n")
            return 2
        bad = check_symbols(sys.argv[2])
    for b in bad:
        sys.stderr.write("layers: %s\n" % b)
    if bad:
        sys.stderr.write("layers: %d violation(s) of the rule in ARCHITECTURE.md\n" % len(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
