#!/usr/bin/env bash
# Installs the library to a temporary prefix through CMake, then builds capi-tests/install/hello.c
#   1. with pkg-config (PKG_CONFIG_PATH pointing into the prefix),
#   2. as a CMake project with find_package(ZeroMQ) and target libzmq,
#   3. the same with target libzmq-static,
# runs each, and checks with ldd that the shared builds load the installed libzmq.so.5.
# usage: capi-tests/install-test.sh [--keep]   (--keep leaves the prefix for a look)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ROOT=$ZMQRS_ROOT
KEEP=0
[ "${1:-}" = --keep ] && KEEP=1

zmqrs_need cmake pkg-config gcc make binutils gdb || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/zmq-rs-install.XXXXXX")
[ $KEEP = 1 ] || trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+ ($2)}"; failed=$((failed + 1)); }
finish() {
    [ $KEEP = 1 ] && echo "install-test: kept $work" >&2
    echo "install-test: $passed passed, $failed failed"
    [ $failed -eq 0 ]
    exit
}

# ---- install
if cmake -S "$ROOT" -B "$work/build" -DCMAKE_INSTALL_PREFIX="$prefix" >"$work/configure.log" 2>&1 &&
    cmake --build "$work/build" >"$work/build.log" 2>&1 &&
    cmake --install "$work/build" >"$work/install.log" 2>&1; then
    pass "cmake install"
else
    cat "$work"/{configure,build,install}.log 2>/dev/null | tail -n 20 >&2
    fail "cmake install"
    finish
fi
libdir="$prefix/lib"
missing=
for f in lib/libzmq.so.5 lib/libzmq.so lib/libzmq.a include/zmq.h lib/pkgconfig/libzmq.pc \
    lib/cmake/ZeroMQ/ZeroMQConfig.cmake lib/cmake/ZeroMQ/ZeroMQConfigVersion.cmake; do
    [ -e "$prefix/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then pass "installed files"; else fail "installed files" "missing:$missing"; fi
soname=$(objdump -p "$libdir/libzmq.so.5" 2>/dev/null | awk '/SONAME/ {print $2}')
if [ "$soname" = libzmq.so.5 ]; then pass "soname"; else fail "soname" "got '$soname'"; fi

# Stripped as distributions install libraries; the debug info split out, and found again.
sections() { readelf -S --wide "$1" 2>/dev/null | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\./) {print $i; break}}'; }
so="$libdir/libzmq.so.5.2.5"
dbg="$libdir/.debug/libzmq.so.5.2.5.debug"
if sections "$so" | grep -qx .gnu_debuglink && ! sections "$so" | grep -q '^\.debug_' &&
    ! sections "$so" | grep -qx .symtab; then
    pass "shared library stripped, with a debug link"
else
    fail "shared library stripped, with a debug link" "$(sections "$so" | tr '\n' ' ')"
fi
if [ -f "$dbg" ] && sections "$dbg" | grep -qx .debug_info &&
    gdb -nx -batch -ex "info line zmq_ctx_new" "$so" 2>/dev/null | grep -q 'src/ffi'; then
    pass "debug info found through the link (gdb)"
else
    fail "debug info found through the link (gdb)"
fi
if ! ar t "$libdir/libzmq.a" >/dev/null 2>&1 || objdump -h "$libdir/libzmq.a" 2>/dev/null | grep -q ' \.debug_info'; then
    fail "static library stripped of debug info"
else
    pass "static library stripped of debug info"
fi
ref_so=$(ls /usr/lib/*/libzmq.so.5.* 2>/dev/null | head -n1)
echo "install-test: installed libzmq.so.5.2.5 $(stat -c %s "$so") bytes (debug info apart:" \
    "$(stat -c %s "$dbg" 2>/dev/null) bytes), libzmq.a $(stat -c %s "$libdir/libzmq.a") bytes;" \
    "Debian's libzmq: ${ref_so:+$(stat -c %s "$ref_so") bytes}"

run_and_check() { # run_and_check NAME BINARY [shared|static]
    local name=$1 bin=$2 kind=$3
    if [ "$kind" = shared ]; then
        zmqrs_check_ours "$bin" "$libdir" || { fail "$name" "does not load the installed libzmq"; return; }
    else
        if env -u LD_LIBRARY_PATH ldd "$bin" | grep -q libzmq; then
            fail "$name" "a static build still loads a shared libzmq"
            return
        fi
    fi
    local rc=0
    env -u LD_LIBRARY_PATH -u LD_PRELOAD timeout 30 "$bin" >"$work/$name.out" 2>&1 || rc=$?
    if [ $rc -eq 0 ]; then
        pass "$name"
    else
        sed 's/^/    | /' "$work/$name.out"
        fail "$name" "exit $rc"
    fi
}

# ---- 1. pkg-config
pcflags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs libzmq 2>"$work/pc.log")
modversion=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --modversion libzmq 2>/dev/null)
if [ "$modversion" = 4.3.5 ]; then pass "pkg-config version"; else fail "pkg-config version" "got '$modversion'"; fi
# shellcheck disable=SC2086
if gcc -Wall -Wextra -Werror -std=c99 -o "$work/hello_pkgconfig" "$here/install/hello.c" $pcflags \
    -Wl,-rpath,"$libdir" >"$work/pc-build.log" 2>&1; then
    run_and_check hello_pkgconfig "$work/hello_pkgconfig" shared
else
    tail -n 15 "$work/pc-build.log" >&2
    fail hello_pkgconfig "does not build"
fi

# ---- 2./3. CMake find_package(ZeroMQ)
if cmake -S "$here/install" -B "$work/user" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >"$work/user-configure.log" 2>&1; then
    pass "find_package(ZeroMQ 4.3.5)"
    for t in shared static; do
        if cmake --build "$work/user" --target "hello_$t" >"$work/user-$t.log" 2>&1; then
            run_and_check "hello_cmake_$t" "$work/user/hello_$t" $t
        else
            tail -n 15 "$work/user-$t.log" >&2
            fail "hello_cmake_$t" "does not build"
        fi
    done
else
    tail -n 15 "$work/user-configure.log" >&2
    fail "find_package(ZeroMQ 4.3.5)"
fi
finish
