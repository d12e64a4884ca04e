# Shared by the bench/ scripts (source it, don't run it): libzmq's perf programs from the cached
# Debian source package (see capi-tests/reference.sh), built twice, against Debian's libzmq and
# against ours, plus the arithmetic the tables need.
#
#   bench_build DIR PROG...   builds perf/PROG.cpp into DIR/theirs/bin and DIR/ours/bin
#                             (ours linked by rpath to target/release, checked with ldd)
#   bench_build_c DIR NAME    builds bench/NAME.c into DIR/theirs/NAME (Debian's header and
#                             libzmq) and DIR/ours/NAME (ours, by rpath to a staged copy, checked)
#   median FIGURE...          the median, or "-" when any run failed
#   ratio A B                 A/B with two decimals, or "-"
#   clamp V LO HI             V as an integer within [LO, HI]
#   size_label BYTES          "64 B", "1 KiB", ...
#   pin CPU CMD...            CMD held to that CPU when PINNED=1 (the --pinned modes), else as is
#   omq_build                 builds omq-libzmq (a Rust C-ABI libzmq from crates.io, version
#                             $OMQ_VERSION) once into $CACHE/omq and sets OMQ_LIB to the directory
#                             of its library, named libzmq.so.5: the third column (--omq) runs
#                             the binaries built against Debian's libzmq with that library
#   omq_cols A R B R          when OMQ=1, the omq columns of a table row: " | A R B R"
#   who_bin WHO / who_env WHO the binary directory (theirs for omq) and the env(1) arguments that
#                             load WHO's library (theirs, ours or omq)
here_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here_lib/../capi-tests/lib.sh"
CACHE=${ZMQ_REF_CACHE:-/var/cache/zmq-rs-reference}

bench_build() {
    local B=$1 p src hdr="$ZMQRS_ROOT/include/zmq.h"
    shift
    zmqrs_need g++ libzmq3-dev dpkg-dev || return 2
    src=$(ls -d "$CACHE"/zeromq3-4.3.*/ 2>/dev/null | head -n1)
    src=${src%/}
    if [ ! -f "$src/perf/$1.cpp" ]; then
        # reference.sh knows how to fetch the source; ask it to fetch and build nothing.
        "$ZMQRS_ROOT/capi-tests/reference.sh" test_capabilities >/dev/null 2>&1
        src=$(ls -d "$CACHE"/zeromq3-4.3.*/ 2>/dev/null | head -n1)
        src=${src%/}
        [ -f "$src/perf/$1.cpp" ] || { echo "bench: no zeromq3 source in $CACHE" >&2; return 2; }
    fi
    [ -f "$ZMQRS_LIB" ] || { echo "bench: $ZMQRS_LIB missing; run cargo build --release" >&2; return 2; }
    if [ ! -f "$hdr" ]; then
        echo "bench: WARNING: $hdr missing, building 'ours' with the SYSTEM zmq.h" >&2
        hdr=/usr/include/zmq.h
    fi
    _bench_build_one "$B" "$src" theirs /usr/include/zmq.h "$@" -- || return 1
    zmqrs_stage_lib "$B/ours/lib"
    _bench_build_one "$B" "$src" ours "$hdr" "$@" -- -L"$B/ours/lib" -Wl,-rpath,"$B/ours/lib" \
        -Wl,--enable-new-dtags || return 1
    for p in "$@"; do
        zmqrs_check_ours "$B/ours/bin/$p" "$B/ours/lib" || return 1
        if env -u LD_LIBRARY_PATH ldd "$B/theirs/bin/$p" | grep -q "$B"; then
            echo "bench: the Debian build of $p loads our library" >&2
            return 1
        fi
    done
}

bench_build_c() {
    local B=$1 name=$2 src="$here_lib/$2.c" cflags=(-O2 -Wall -Wextra -Werror -std=c99)
    zmqrs_need gcc libzmq3-dev || return 2
    [ -f "$ZMQRS_LIB" ] || { echo "bench: $ZMQRS_LIB missing; run cargo build --release" >&2; return 2; }
    mkdir -p "$B/theirs" "$B/ours/lib"
    gcc "${cflags[@]}" -o "$B/theirs/$name" "$src" -lzmq || return 1
    zmqrs_stage_lib "$B/ours/lib"
    gcc "${cflags[@]}" -I"$ZMQRS_ROOT/include" -o "$B/ours/$name" "$src" -L"$B/ours/lib" \
        -Wl,-rpath,"$B/ours/lib" -Wl,--enable-new-dtags -lzmq || return 1
    zmqrs_check_ours "$B/ours/$name" "$B/ours/lib" || return 1
    if env -u LD_LIBRARY_PATH ldd "$B/theirs/$name" | grep -q "$B"; then
        echo "bench: the Debian build of $name loads our library" >&2
        return 1
    fi
}

_bench_build_one() { # B SRC NAME HEADER PROG... -- LDFLAGS...
    local B=$1 src=$2 name=$3 hdr=$4 progs=() p
    shift 4
    while [ "$1" != -- ]; do progs+=("$1"); shift; done
    shift
    local d="$B/$name"
    mkdir -p "$d/include" "$d/perf" "$d/bin"
    cp "$hdr" "$d/include/zmq.h"
    printf '#define ZMQ_HAVE_LINUX 1\n' >"$d/perf/platform.hpp"
    for p in "${progs[@]}"; do
        cp "$src/perf/$p.cpp" "$d/perf/$p.cpp"
        g++ -O2 -pthread -w -I"$d/perf" -o "$d/bin/$p" "$d/perf/$p.cpp" "$@" -lzmq \
            >"$d/$p.build.log" 2>&1 || {
            echo "bench: $name/$p does not build:" >&2
            tail -n 5 "$d/$p.build.log" >&2
            return 1
        }
    done
}

OMQ_VERSION=0.8.0
OMQ_LIB=
omq_build() {
    local d="$CACHE/omq" src
    if [ -f "$d/lib/libzmq.so.5" ] && [ -f "$d/lib/.version-$OMQ_VERSION" ]; then
        OMQ_LIB="$d/lib"
        return 0
    fi
    command -v cargo >/dev/null || { echo "bench: --omq needs cargo" >&2; return 2; }
    echo "bench: building omq-libzmq $OMQ_VERSION into $d (once; several minutes)" >&2
    mkdir -p "$d/fetch/src" "$d/lib" || return 2
    printf '[package]\nname = "omq-fetch"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\nomq-libzmq = "=%s"\n\n[workspace]\n' \
        "$OMQ_VERSION" >"$d/fetch/Cargo.toml"
    : >"$d/fetch/src/lib.rs"
    (cd "$d/fetch" && cargo fetch -q) || { echo "bench: cannot fetch omq-libzmq" >&2; return 2; }
    src=$(cd "$d/fetch" && cargo metadata -q --format-version 1 | python3 -c '
import json, os, sys
m = json.load(sys.stdin)
print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"] == "omq-libzmq"))') ||
        return 2
    rm -rf "$d/src" && cp -a "$src" "$d/src" && printf '\n[workspace]\n' >>"$d/src/Cargo.toml" || return 2
    # Its packaged Cargo.lock lacks the registry source of its sibling crates: no --locked.
    (cd "$d/src" && CARGO_TARGET_DIR="$d/target" cargo build -q --release --lib) >"$d/build.log" 2>&1 || {
        echo "bench: omq-libzmq does not build, see $d/build.log" >&2
        return 2
    }
    cp "$d/target/release/libomq_zmq.so" "$d/lib/libzmq.so.5" && touch "$d/lib/.version-$OMQ_VERSION" || return 2
    OMQ_LIB="$d/lib"
}

who_bin() { if [ "$1" = omq ]; then echo theirs; else echo "$1"; fi; }
who_env() { if [ "$1" = omq ]; then echo "LD_LIBRARY_PATH=$OMQ_LIB"; else echo "-u LD_LIBRARY_PATH"; fi; }

omq_cols() { if [ "${OMQ:-0}" = 1 ]; then printf ' | %12s %6s %10s %6s' "$@"; fi; }

pin() {
    if [ "${PINNED:-0}" = 1 ]; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi
}

ratio() {
    if [ "$1" = - ] || [ "$2" = - ] || [ -z "$1" ] || [ -z "$2" ]; then echo -; return; fi
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'
}

median() {
    local v
    for v in "$@"; do [ "$v" = - ] || [ -z "$v" ] && { echo -; return; }; done
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

clamp() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { v = int(v); if (v < lo) v = lo; if (v > hi) v = hi; print v }'; }

size_label() {
    if [ "$1" -ge 1024 ] && [ $(($1 % 1024)) -eq 0 ]; then echo "$(($1 / 1024)) KiB"; else echo "$1 B"; fi
}
