#!/usr/bin/env bash
# Header conformance: our include/zmq.h against the reference zmq.h of libzmq 4.3.5 (Debian's
# libzmq3-dev, /usr/include/zmq.h, libzmq 4.3.4, read with 4.3.5's changes applied).
#
#   capi-tests/check-header.sh [OUR_HEADER]     (default: include/zmq.h of this repository)
#   ZMQ_REF_HEADER=/path/to/zmq.h capi-tests/check-header.sh
#
# Checks, each counted as passed or failed:
#   - the header compiles as C99 and C++11 (-Wall -Wextra -Werror -pedantic), with and
#     without ZMQ_BUILD_DRAFT_API, and can be included twice;
#   - every #define of the reference exists in ours with the same value (fully expanded and
#     evaluated; strings compared as text; the 4.3.4 reference is read as 4.3.5's header, with
#     the changes of 4.3.5 applied: see CHANGES_435), in the stable and in the draft configuration; a
#     draft name must not be defined without ZMQ_BUILD_DRAFT_API; the errno fallbacks are
#     also checked with an empty <errno.h>; all numeric values once more by _Static_assert;
#   - every function prototype of the reference (stable and draft section, extracted here,
#     at test time) is declared by ours, and re-declaring the reference's prototype after
#     including ours compiles in C and C++ (same return and parameter types); a draft
#     function must not be declared without ZMQ_BUILD_DRAFT_API;
#   - every plain typedef of the reference re-declares cleanly after ours (C11), and the
#     structs (zmq_msg_t, zmq_pollitem_t, zmq_poller_event_t) have the same size,
#     alignment and field offsets.
# Ends with "header: N passed, M failed"; exits non-zero when anything failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ours="$(realpath "${1:-$here/../include/zmq.h}")"
ref="${ZMQ_REF_HEADER:-/usr/include/zmq.h}"

if [[ ! -f "$ref" ]]; then
    echo "check-header: reference header $ref is missing: install libzmq3-dev (apt-get install libzmq3-dev)" >&2
    echo "header: 0 passed, 1 failed"
    exit 1
fi
if [[ ! -f "$ours" ]]; then
    echo "check-header: our header $ours is missing" >&2
    echo "header: 0 passed, 1 failed"
    exit 1
fi
for tool in gcc g++ python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "check-header: $tool is required" >&2
        echo "header: 0 passed, 1 failed"
        exit 1
    fi
done

exec python3 - "$ours" "$ref" <<'PYTHON'
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

OURS, REF = sys.argv[1], sys.argv[2]
VERBOSE = os.environ.get("VERBOSE") == "1"
tmp = tempfile.mkdtemp(prefix="check-header.")
results = []  # (name, ok, detail)


def record(name, ok, detail=""):
    results.append((name, ok, detail))
    if not ok or VERBOSE:
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def first_error(out):
    for line in out.splitlines():
        if "error" in line:
            return line.strip()
    return out.strip().splitlines()[0] if out.strip() else "(no output)"


# The reference, read as libzmq 4.3.5's header: Debian's is 4.3.4's, so what 4.3.5 changed in
# it is applied here (the version; <signal.h> for zmq_ppoll's sigset_t; the draft socket options
# 113 to 124 and the ZMQ_NORM_MODE values; ZMQ_RECONNECT_STOP_AFTER_DISCONNECT from 0x3 to 0x4;
# the draft zmq_ppoll). Each change must apply exactly once; a 4.3.5 reference is taken as is.
ref_text = open(REF).read()
DRAFT_OPTIONS_435 = [("ZMQ_BUSY_POLL", 113), ("ZMQ_HICCUP_MSG", 114),
                     ("ZMQ_XSUB_VERBOSE_UNSUBSCRIBE", 115), ("ZMQ_TOPICS_COUNT", 116),
                     ("ZMQ_NORM_MODE", 117), ("ZMQ_NORM_UNICAST_NACK", 118),
                     ("ZMQ_NORM_BUFFER_SIZE", 119), ("ZMQ_NORM_SEGMENT_SIZE", 120),
                     ("ZMQ_NORM_BLOCK_SIZE", 121), ("ZMQ_NORM_NUM_PARITY", 122),
                     ("ZMQ_NORM_NUM_AUTOPARITY", 123), ("ZMQ_NORM_PUSH", 124),
                     ("ZMQ_NORM_FIXED", 0), ("ZMQ_NORM_CC", 1), ("ZMQ_NORM_CCL", 2),
                     ("ZMQ_NORM_CCE", 3), ("ZMQ_NORM_CCE_ECNONLY", 4)]
CHANGES_435 = [
    ("ZMQ_VERSION_PATCH", r"(#define\s+ZMQ_VERSION_PATCH\s+)4\b", r"\g<1>5"),
    ("<signal.h>", r"(\n#include <stdint.h>\n#endif\n)",
     r"\g<1>\n#if !defined _WIN32\n#include <signal.h>\n#endif\n"),
    ("draft options 113-124", r"(#define\s+ZMQ_PRIORITY\s+112\n)",
     r"\g<1>" + "".join(f"#define {n} {v}\\n" for n, v in DRAFT_OPTIONS_435)),
    ("ZMQ_RECONNECT_STOP_AFTER_DISCONNECT",
     r"(#define\s+ZMQ_RECONNECT_STOP_AFTER_DISCONNECT\s+)0x3\b", r"\g<1>0x4"),
    ("zmq_ppoll", r"(ZMQ_EXPORT int zmq_socket_monitor_pipes_stats \(void \*s\);\n)",
     r"\g<1>#if !defined _WIN32\nZMQ_EXPORT int zmq_ppoll (zmq_pollitem_t *items_, int nitems_, "
     r"long timeout_, const sigset_t *sigmask_);\n#endif\n"),
]
if not re.search(r"#define\s+ZMQ_VERSION_PATCH\s+5\b", ref_text):
    for what, pattern, repl in CHANGES_435:
        ref_text, n = re.subn(pattern, repl, ref_text, count=2)
        if n != 1:
            record(f"reference read as 4.3.5: {what}", False,
                   f"the 4.3.4 text it changes was found {n} times, not once")
os.makedirs(os.path.join(tmp, "ref"))
REF5 = write("ref/zmq.h", ref_text)
our_text = open(OURS).read()

# An empty <errno.h>, to see the errno fallbacks at work.
os.makedirs(os.path.join(tmp, "noerrno"))
write("noerrno/errno.h", "/* empty: check-header.sh tests the errno fallbacks */\n")

# ---------------------------------------------------------------------------------------
# 1. The header is valid C and C++, and guarded against double inclusion.
unit = write("unit.c", f'#include "{OURS}"\n#include "{OURS}"\nint main(void) {{ return 0; }}\n')
for draft in (False, True):
    d = ["-DZMQ_BUILD_DRAFT_API"] if draft else []
    tag = "draft" if draft else "stable"
    rc, out = run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
                   "-Wstrict-prototypes", *d, "-c", unit, "-o", os.devnull])
    record(f"compiles as C99 ({tag})", rc == 0, first_error(out) if rc else "")
    rc, out = run(["g++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                   *d, "-x", "c++", "-c", unit, "-o", os.devnull])
    record(f"compiles as C++11 ({tag})", rc == 0, first_error(out) if rc else "")

# ---------------------------------------------------------------------------------------
# 2. Macros.
def macros(header, draft, extra=()):
    """name -> (params or None, body) of every macro defined after including header."""
    src = write("macros.c", f'#include "{header}"\n')
    d = ["-DZMQ_BUILD_DRAFT_API"] if draft else []
    rc, out = run(["gcc", "-E", "-dM", *extra, *d, src])
    if rc:
        raise SystemExit(f"check-header: cannot preprocess {header}: {first_error(out)}")
    result = {}
    for line in out.splitlines():
        m = re.match(r"#define (\w+)(\(([^)]*)\))? ?(.*)$", line)
        if m:
            params = None if m.group(2) is None else [p for p in m.group(3).split(",") if p]
            result[m.group(1)] = (params, m.group(4))
    return result


def expansions(header, names, defs, draft, extra=()):
    """name -> the fully expanded text of each macro (function-like ones applied to 7, 11, ...)."""
    primes = ["7", "11", "13", "17", "19", "23"]
    lines = [f'#include "{header}"']
    for name in names:
        params = defs[name][0]
        use = name if params is None else f"{name}({', '.join(primes[:len(params)])})"
        lines.append(f'@@ "{name}" @@ {use} @@end@@')
    src = write("expand.c", "\n".join(lines) + "\n")
    d = ["-DZMQ_BUILD_DRAFT_API"] if draft else []
    rc, out = run(["gcc", "-E", "-P", *extra, *d, src])
    if rc:
        raise SystemExit(f"check-header: cannot preprocess {header}: {first_error(out)}")
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r'@@\s*"(\w+)"\s*@@(.*?)@@end@@', out, re.S)}


def c_value(text):
    """The value of a C integer constant expression, or the text itself (strings, empty)."""
    text = " ".join(text.split())
    if not text or '"' in text:
        return ("text", text)

    def literal(m):
        digits = m.group(1)
        if digits[:2].lower() == "0x":
            return str(int(digits, 16))
        return str(int(digits, 8 if len(digits) > 1 and digits[0] == "0" else 10))

    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", literal, text)
    if re.search(r"[A-Za-z_.'\"]", expr):
        return ("text", text)
    try:
        return ("int", eval(expr.replace("/", "//"), {"__builtins__": {}}, {}))
    except Exception:
        return ("text", text)


ref_names = []
for m in re.finditer(r"^\s*#\s*define\s+(\w+)", ref_text, re.M):
    if m.group(1) not in ref_names and m.group(1) != "__ZMQ_H_INCLUDED__":
        ref_names.append(m.group(1))
ref_undefs = set(re.findall(r"^\s*#\s*undef\s+(\w+)", ref_text, re.M))

configs = {
    "stable": dict(draft=False, extra=()),
    "draft": dict(draft=True, extra=()),
    "stable, no errno.h": dict(draft=False, extra=("-I", os.path.join(tmp, "noerrno"))),
}
defs = {}
vals = {}
for cname, cfg in configs.items():
    for side, header in (("ref", REF5), ("ours", OURS)):
        dm = macros(header, cfg["draft"], cfg["extra"])
        defs[(cname, side)] = dm
        present = [n for n in ref_names if n in dm]
        vals[(cname, side)] = expansions(header, present, dm, cfg["draft"], cfg["extra"])

guard = "__ZMQ_H_INCLUDED__"
record(f"include guard {guard}",
       guard in defs[("stable", "ours")] and re.search(rf"#ifndef {guard}\b", our_text) is not None)

static_asserts = []
for name in ref_names:
    problems = []
    defined_somewhere = any(name in defs[(c, "ref")] for c in configs)
    if not defined_somewhere:
        if name in ref_undefs:
            # Defined, used and undefined by the header itself (ZMQ_EXPORT).
            if not re.search(rf"^\s*#\s*define\s+{name}\b", our_text, re.M):
                problems.append("not defined by our header")
            elif name in defs[("draft", "ours")]:
                problems.append("the reference undefines it at its end; ours leaves it defined")
        else:
            # Only defined for another platform (e.g. _WIN32_WINNT under _WIN32).
            if VERBOSE:
                print(f"skip {name}: the reference defines it only for other platforms")
            continue
    for cname in configs:
        in_ref = name in defs[(cname, "ref")]
        in_ours = name in defs[(cname, "ours")]
        if in_ref and not in_ours:
            problems.append(f"missing ({cname})")
        elif in_ours and not in_ref:
            problems.append(f"defined but the reference does not define it ({cname})")
        elif in_ref:
            rp, op = defs[(cname, "ref")][name][0], defs[(cname, "ours")][name][0]
            if (rp is None) != (op is None) or (rp and len(rp) != len(op)):
                problems.append(f"macro parameters differ ({cname})")
                continue
            rv = c_value(vals[(cname, "ref")][name])
            ov = c_value(vals[(cname, "ours")][name])
            if rv != ov:
                problems.append(f"value {ov[1]!r} instead of {rv[1]!r} ({cname})")
            elif cname == "draft" and rv[0] == "int":
                static_asserts.append((name, vals[(cname, "ref")][name], defs[(cname, "ref")][name][0]))
    record(f"#define {name}", not problems, "; ".join(problems))

# The same numeric values, checked by the compiler.
lines = ["#define ZMQ_BUILD_DRAFT_API", f'#include "{OURS}"']
primes = ["7", "11", "13", "17", "19", "23"]
for name, value, params in static_asserts:
    use = name if params is None else f"{name}({', '.join(primes[:len(params)])})"
    lines.append(f'_Static_assert(({use}) == ({value}), "{name}");')
rc, out = run(["gcc", "-std=c11", "-Wall", "-Werror", "-c", write("values.c", "\n".join(lines) + "\n"), "-o", os.devnull])
record(f"_Static_assert of {len(static_asserts)} values", rc == 0, first_error(out) if rc else "")

# ---------------------------------------------------------------------------------------
# 3. Prototypes and types, from the reference as the preprocessor sees it on this platform.
def zmq_part(draft):
    src = write("pre.c", "#include <errno.h>\n#include <stddef.h>\n#include <stdio.h>\n"
                          "#include <stdint.h>\n#include <signal.h>\n@@zmq@@\n"
                          f'#include "{REF5}"\n')
    d = ["-DZMQ_BUILD_DRAFT_API"] if draft else []
    rc, out = run(["gcc", "-E", "-P", *d, src])
    if rc:
        raise SystemExit(f"check-header: cannot preprocess {REF}: {first_error(out)}")
    return out.split("@@zmq@@", 1)[1]


def statements(text):
    """Top-level declarations (ends at ';' outside braces), without extern "C" wrappers."""
    text = re.sub(r'extern\s+"C"\s*\{|^\s*\}\s*$', "", text, flags=re.M)
    out, depth, cur = [], 0, ""
    for ch in text:
        cur += ch
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == ";" and depth == 0:
            out.append(" ".join(cur.split()))
            cur = ""
    return out


def function_name(stmt):
    if stmt.startswith("typedef") or stmt.startswith("struct"):
        return None
    m = re.search(r"\b(zmq_\w+)\s*\(", stmt)
    return m.group(1) if m else None


stable_stmts = statements(zmq_part(False))
draft_stmts = statements(zmq_part(True))
stable_fns = {function_name(s): s for s in stable_stmts if function_name(s)}
draft_fns = {function_name(s): s for s in draft_stmts
             if function_name(s) and function_name(s) not in stable_fns}
if len(stable_fns) < 60 or len(draft_fns) < 10:
    record("reference prototypes found", False, f"only {len(stable_fns)} stable, {len(draft_fns)} draft")


def compiles(code, cxx=False, std=None):
    ext = "cpp" if cxx else "c"
    path = write(f"t{abs(hash(code))}.{ext}", code)
    cmd = ["g++", "-std=" + (std or "c++11")] if cxx else ["gcc", "-std=" + (std or "c99")]
    rc, out = run([*cmd, "-Wall", "-Wextra", "-Werror", "-Wno-unused", "-c", path, "-o", os.devnull])
    return rc == 0, out


def check_function(args):
    name, proto, draft = args
    problems = []
    # POSIX names visible (zmq_ppoll's sigset_t), as a program that calls zmq_ppoll has them.
    head = ("#define _POSIX_C_SOURCE 200809L\n" + ("#define ZMQ_BUILD_DRAFT_API\n" if draft else "")
            + f'#include "{OURS}"\n')
    probe = f"typedef char declared_{name}[sizeof(&{name}) > 0 ? 1 : -1];\n"
    ok, out = compiles(head + probe)
    if not ok:
        problems.append("not declared")
    else:
        ok, out = compiles(head + probe + proto + "\n")
        if not ok:
            problems.append("differs from the reference (C): " + first_error(out))
        ok, out = compiles(head + 'extern "C" {\n' + proto + "\n}\n", cxx=True)
        if not ok:
            problems.append("differs from the reference (C++): " + first_error(out))
    if draft:
        ok, _ = compiles(f'#define _POSIX_C_SOURCE 200809L\n#include "{OURS}"\n' + probe)
        if ok:
            problems.append("declared without ZMQ_BUILD_DRAFT_API")
    return name, draft, problems


jobs = [(n, p, False) for n, p in stable_fns.items()] + [(n, p, True) for n, p in draft_fns.items()]
with ThreadPoolExecutor(max_workers=2) as pool:
    for name, draft, problems in pool.map(check_function, jobs):
        record(f"{'draft ' if draft else ''}function {name}", not problems, "; ".join(problems))

# Plain typedefs (function types, zmq_fd_t): re-declaring the reference's must be accepted.
for stmts, draft in ((stable_stmts, False), (draft_stmts, True)):
    for s in stmts:
        if s.startswith("typedef") and "{" not in s and "zmq_" in s:
            name = re.findall(r"\b(zmq_\w+)\b", s)[0]
            if draft and s in stable_stmts:
                continue
            head = ("#define ZMQ_BUILD_DRAFT_API\n" if draft else "") + f'#include "{OURS}"\n'
            ok, out = compiles(head + s + "\n", std="c11")
            record(f"typedef {name}", ok, "" if ok else first_error(out))

# Struct layouts.
def strip_attributes(text):
    while True:
        m = re.search(r"__attribute__\s*\(", text)
        if not m:
            return text
        depth, i = 0, m.end() - 1
        while i < len(text):
            depth += text[i] == "("
            depth -= text[i] == ")"
            i += 1
            if depth == 0:
                break
        text = text[:m.start()] + text[i:]


structs = {}
for s in draft_stmts:
    m = re.match(r"typedef struct (\w+) \{(.*)\}\s*(\w+)\s*;$", s)
    if m and m.group(1) == m.group(3):
        fields = []
        for decl in strip_attributes(m.group(2)).split(";"):
            fm = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", decl.strip())
            if fm:
                fields.append(fm.group(1))
        structs[m.group(1)] = fields


def layout(header):
    body = ["#define ZMQ_BUILD_DRAFT_API", f'#include "{header}"', "#include <stdio.h>",
            "#include <stddef.h>", "int main(void) {"]
    for name, fields in structs.items():
        body.append(f'printf("{name} size %zu align %zu\\n", sizeof({name}), _Alignof({name}));')
        for f in fields:
            body.append(f'printf("{name}.{f} offset %zu size %zu\\n", offsetof({name}, {f}), '
                        f"sizeof((({name} *)0)->{f}));")
    body.append("return 0; }")
    exe = os.path.join(tmp, "layout")
    # gnu11: 4.3.5's draft zmq_ppoll needs POSIX's sigset_t, which strict C11 hides.
    rc, out = run(["gcc", "-std=gnu11", write("layout.c", "\n".join(body) + "\n"), "-o", exe])
    if rc:
        return {}, first_error(out)
    rc, out = run([exe])
    lines = {}
    for line in out.splitlines():
        lines.setdefault(line.split()[0].split(".")[0], []).append(line)
    return lines, ""


ref_layout, err = layout(REF5)
if err:
    record("reference layout program", False, err)
our_layout, our_err = layout(OURS)
for name in structs:
    ok = our_layout.get(name) == ref_layout.get(name) and name in ref_layout
    detail = our_err or f"ours {our_layout.get(name)} vs reference {ref_layout.get(name)}"
    record(f"struct {name} layout", ok, "" if ok else detail)

passed = sum(1 for _, ok, _ in results if ok)
failed = len(results) - passed
print(f"header: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PYTHON
