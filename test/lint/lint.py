#!/usr/bin/python3
"""lint: the rules of the team brief that a machine can check, as TAP.

  lint.py SRCROOT NM FILE...

1. No banned function is called anywhere in the C sources (core, checks,
   fs, tools, test): strcpy strcat sprintf vsprintf strtok atoi atol gets
   system popen. Each has a bounded or checked replacement (snprintf,
   strtok_r, strtoul with an end pointer, posix_spawn ...). Comments and
   string literals are blanked first ("a file system (FUSE)" is prose).
2. No global symbol defined in the built libraries and programs (FILE...)
   starts with sftp_, ssh_ or fuse_: libssh and libfuse export those names,
   and a clash links silently to the wrong function.
3. The same for static names (functions and variables defined by us, found
   in the sources and in nm's local symbols): they cannot clash at link
   time, but a reader cannot tell them from the libraries' own calls.

Every offence is printed as a TAP comment "# path:line: text".
"""
import os
import re
import subprocess
import sys

BANNED = ("strcpy", "strcat", "sprintf", "vsprintf", "strtok", "atoi", "atol",
          "gets", "system", "popen")
BANNED_RE = re.compile(r"\b(%s)\s*\(" % "|".join(BANNED))
DIRS = ("core", "checks", "fs", "tools", "test")
PREFIX = r"(?:ssh|sftp|fuse)_\w+"
PREFIX_RE = re.compile(r"^" + PREFIX + r"$")
# Definitions at the left margin (KNF): "name(" with the return type on the
# line before, or "static ... name(" / "static ... name[" / "... name =".
STATIC_DEF_RE = re.compile(r"^(?:(" + PREFIX + r")\s*\(|static\b[^=;(]*?\b(" + PREFIX +
                           r")\s*[(\[=;])")

tap_n = 0
tap_failed = 0


def point(ok, what, notes, todo=None):
    global tap_n, tap_failed
    tap_n += 1
    directive = ""
    if not ok and todo:
        directive = " # TODO " + todo
    elif not ok:
        tap_failed += 1
    print("%sok %d - %s%s" % ("" if ok else "not ", tap_n, what, directive))
    for n in notes:
        print("# " + n)


def c_sources(root):
    for d in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, d)):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith((".c", ".h")):
                    yield os.path.join(dirpath, f)


CODE_RE = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                     re.S)


def blank(m):
    """A comment or literal as spaces, its newlines kept (line numbers hold)."""
    return re.sub(r"[^\n]", " ", m.group(0))


def grep(root, regex, code_only):
    hits = []
    for path in c_sources(root):
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        lines = text.splitlines()
        scan = CODE_RE.sub(blank, text).splitlines() if code_only else lines
        for i, line in enumerate(scan):
            if regex.search(line):
                hits.append("%s:%d: %s" % (os.path.relpath(path, root), i + 1,
                                           lines[i].strip()))
    return hits


def symbols(nm, files):
    """(global, local) sets of "name (file)" with a reserved prefix."""
    glob, loc = set(), set()
    for f in files:
        out = subprocess.run([nm, "--defined-only", f], check=True, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) != 3 or not PREFIX_RE.match(parts[2]):
                continue
            entry = "%s (%s, nm type %s)" % (parts[2], os.path.basename(f), parts[1])
            (glob if parts[1].isupper() else loc).add(entry)
    return sorted(glob), sorted(loc)


def main(argv):
    if len(argv) < 4:
        print("usage: lint.py SRCROOT NM FILE...", file=sys.stderr)
        return 2
    root, nm, files = argv[1], argv[2], argv[3:]
    hits = grep(root, BANNED_RE, True)
    point(not hits, "no banned function (%s) in %s" % (" ".join(BANNED), " ".join(DIRS)),
          hits)
    glob, loc = symbols(nm, files)
    point(not glob, "no global symbol of ours starts with ssh_, sftp_ or fuse_ (%d files)"
          % len(files), glob)
    static = grep(root, STATIC_DEF_RE, True) + ["nm: " + s for s in loc]
    point(not static, "no static name of ours starts with ssh_, sftp_ or fuse_", static)
    print("1..%d" % tap_n)
    return 1 if tap_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
