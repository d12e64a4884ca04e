#!/usr/bin/env bash
# Exported symbols of our libzmq.so against Debian's libzmq.so.5 (package libzmq5).
#
#   capi-tests/check-exports.sh [--draft] [OUR_SO]     (default: target/release/libzmq.so)
#   ZMQ_REF_LIB=/path/to/libzmq.so.5 capi-tests/check-exports.sh
#
# Checks, each counted as passed or failed:
#   - the soname is libzmq.so.5;
#   - every function that the reference library exports (libzmq's 70 stable functions) is
#     exported by ours, as a function;
#   - ours exports nothing else: no symbol outside zmq_*, and no zmq_* symbol beyond the
#     reference's. With --draft (a build with the `draft` feature), the draft functions
#     declared in the reference header's ZMQ_BUILD_DRAFT_API section (ZMQ_REF_HEADER,
#     default /usr/include/zmq.h, from libzmq3-dev) are expected as well.
# Ends with "exports: N passed, M failed"; exits non-zero when anything failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
draft=0
if [[ "${1:-}" == "--draft" ]]; then
    draft=1
    shift
fi
ours="${1:-$here/../target/release/libzmq.so}"
ref_header="${ZMQ_REF_HEADER:-/usr/include/zmq.h}"

passed=0
failed=0
pass() { passed=$((passed + 1)); [[ "${VERBOSE:-}" == 1 ]] && echo "ok   $*" || true; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() {
    echo "exports: $passed passed, $failed failed"
    if [[ $failed -eq 0 ]]; then exit 0; else exit 1; fi
}

if ! command -v nm >/dev/null || ! command -v readelf >/dev/null; then
    fail "nm and readelf (binutils) are required"
    finish
fi

ref="${ZMQ_REF_LIB:-}"
if [[ -z "$ref" ]]; then
    for dir in "/usr/lib/$(gcc -print-multiarch 2>/dev/null || true)" /usr/lib64 /usr/lib; do
        if [[ -e "$dir/libzmq.so.5" ]]; then
            ref="$dir/libzmq.so.5"
            break
        fi
    done
fi
if [[ -z "$ref" || ! -e "$ref" ]]; then
    fail "the reference libzmq.so.5 is missing: install libzmq5 (apt-get install libzmq5)"
    finish
fi
if [[ ! -e "$ours" ]]; then
    fail "$ours does not exist: build it first (cargo build --release)"
    finish
fi

# "NAME TYPE" of every defined dynamic symbol.
symbols() { nm -D --defined-only "$1" | awk 'NF == 3 { print $3, $2 }' | sort -u; }

ref_symbols="$(symbols "$ref")"
our_symbols="$(symbols "$ours")"
expected="$(awk '{ print $1 }' <<<"$ref_symbols")"

if [[ $draft -eq 1 ]]; then
    if [[ ! -f "$ref_header" ]]; then
        fail "--draft needs the reference header $ref_header: install libzmq3-dev"
        finish
    fi
    drafts="$(sed -n '/^#ifdef ZMQ_BUILD_DRAFT_API/,/^#endif.*ZMQ_BUILD_DRAFT_API/p' "$ref_header" |
        tr '\n' ' ' | grep -o 'zmq_[A-Za-z0-9_]* *(' | tr -d ' (' | sort -u)"
    if [[ -z "$drafts" ]]; then
        fail "no draft functions found in $ref_header"
        finish
    fi
    # libzmq 4.3.5 added one draft function to 4.3.4's header (the reference here).
    grep -q 'zmq_ppoll' "$ref_header" || drafts="$(printf '%s\nzmq_ppoll\n' "$drafts")"
    expected="$(printf '%s\n%s\n' "$expected" "$drafts" | sort -u)"
fi

soname="$(readelf -d "$ours" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')"
if [[ "$soname" == "libzmq.so.5" ]]; then
    pass "soname $soname"
else
    fail "soname is '${soname:-none}', not libzmq.so.5"
fi

missing=()
for name in $expected; do
    type="$(awk -v n="$name" '$1 == n { print $2 }' <<<"$our_symbols")"
    if [[ -z "$type" ]]; then
        missing+=("$name")
        fail "$name is not exported"
    elif [[ "$type" != T ]]; then
        fail "$name is exported as a symbol of type $type, not a function (T)"
    else
        pass "$name"
    fi
done

while read -r name type; do
    [[ -z "$name" ]] && continue
    if ! grep -qx "$name" <<<"$expected"; then
        if [[ "$name" == zmq_* ]]; then
            fail "$name ($type) is exported but is not part of libzmq's ABI"
        else
            fail "$name ($type) is exported: only zmq_* symbols may be"
        fi
    fi
done <<<"$our_symbols"

if [[ ${#missing[@]} -gt 0 ]]; then
    echo "missing: ${#missing[@]} of $(wc -w <<<"$expected") functions"
fi
finish
