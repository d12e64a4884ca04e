#!/usr/bin/env bash
# Every check of the project, in order; keeps going after a failing step and ends with
#   steps: N passed, M failed
# and a non-zero exit when any step failed. CI runs exactly this (.ci/run).
#
# usage: ./test.sh [--no-reference]    (--no-reference skips libzmq's own suite, for a quick run)
set -u
cd "$(dirname "$0")"
ROOT=$PWD
. capi-tests/lib.sh
export CARGO_TERM_COLOR=never

REFERENCE=1
[ "${1:-}" = --no-reference ] && REFERENCE=0

passed=0 failed=0
failed_steps=()
start_all=$(date +%s)
step() { # step NAME COMMAND...
    local name=$1 t0 rc
    shift
    echo
    echo "=== $name"
    t0=$(date +%s)
    "$@"
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "--- ok: $name ($(($(date +%s) - t0)) s)"
        passed=$((passed + 1))
    else
        echo "--- FAILED: $name (exit $rc, $(($(date +%s) - t0)) s)"
        failed=$((failed + 1))
        failed_steps+=("$name")
    fi
}

# ---- what this needs, installed only when missing
deps() {
    zmqrs_need libzmq3-dev python3-zmq cmake g++ gcc make pkg-config dpkg-dev iproute2 binutils || return 1
    if ! cargo clippy --version >/dev/null 2>&1 || ! cargo fmt --version >/dev/null 2>&1; then
        rustup component add clippy rustfmt || return 1
    fi
}

miri() { # Miri on the unsafe core shared between threads: ypipe, msg (refcounts), msg_pool
    zmqrs_nightly miri rust-src || return 1
    # Two thread schedules each (more: -Zmiri-many-seeds=0..N by hand).
    # Its own target directory per toolchain: Miri's artifacts of another nightly with the same
    # rustc commit are taken as fresh and then fail to load.
    CARGO_TARGET_DIR="$ROOT/target/miri-$ZMQRS_NIGHTLY" MIRIFLAGS="-Zmiri-many-seeds=0..2" \
        cargo "+$ZMQRS_NIGHTLY" miri test --lib -- ypipe:: msg_pool:: msg::
}

capi_test() { # capi_test NAME [bin|bin-draft]: build with our header and library, check which libzmq it loads, run
    local t=$1 dir=${2:-bin}
    make -s -C capi-tests "$dir/$t" || return 1
    zmqrs_check_ours "capi-tests/$dir/$t" "$ROOT/capi-tests/$dir/lib" || return 1
    env -u LD_LIBRARY_PATH -u LD_PRELOAD timeout 120 "capi-tests/$dir/$t"
}

watches_off() { # the request/reply, pub/sub and inproc tests again with every watch off (ZMQRS_WATCH=off)
    local t
    for t in test_reqrep test_pubsub test_inproc; do
        ZMQRS_WATCH=off capi_test "$t" || return 1
    done
}

# The draft build (cargo feature `draft`, as `cmake -DENABLE_DRAFTS=ON` makes it), in a target
# directory of its own so that the two builds do not rebuild each other.
DRAFT_LIB="$ROOT/target/draft/release/libzmq.so"

step "dependencies" deps
step "cargo build --release" cargo build --release
step "cargo test --release" cargo test --release
step "cargo clippy" cargo clippy --all-targets -- -D warnings
step "cargo clippy (fuzzing)" cargo clippy --lib --features fuzzing -- -D warnings
step "cargo fmt --check" cargo fmt --check
step "cargo build --release --features draft" cargo build --release --features draft --target-dir target/draft
step "cargo clippy (draft)" cargo clippy --all-targets --features draft -- -D warnings

if [ ! -f include/zmq.h ]; then
    step "include/zmq.h exists" false
fi
for src in capi-tests/test_*.c; do
    [ -e "$src" ] || continue
    t=$(basename "${src%.c}")
    step "capi-tests/$t" capi_test "$t"
done
for src in capi-tests/draft/test_*.c; do
    [ -e "$src" ] || continue
    t=$(basename "${src%.c}")
    step "capi-tests/draft/$t" capi_test "$t" bin-draft
done
step "capi-tests with ZMQRS_WATCH=off (reqrep, pubsub, inproc)" watches_off
for s in check-header.sh check-exports.sh; do
    [ -x "capi-tests/$s" ] && step "capi-tests/$s" "capi-tests/$s"
    [ -f "capi-tests/$s" ] && [ ! -x "capi-tests/$s" ] && step "capi-tests/$s" bash "capi-tests/$s"
done
step "capi-tests/check-exports.sh --draft" bash capi-tests/check-exports.sh --draft "$DRAFT_LIB"
step "capi-tests/install-test.sh" capi-tests/install-test.sh
step "capi-tests/interop.sh" bash capi-tests/interop.sh
step "capi-tests/interop-draft.sh" bash capi-tests/interop-draft.sh
step "capi-tests/differential.py" /usr/bin/python3 capi-tests/differential.py
step "fuzz/run.sh (20 s per harness)" fuzz/run.sh 20
step "miri (ypipe, msg, msg_pool)" miri
step "capi-tests/sanitize.sh (ASan, LSan, UBSan)" capi-tests/sanitize.sh
step "capi-tests/sanitize.sh --thread (TSan)" capi-tests/sanitize.sh --thread
if [ $REFERENCE = 1 ]; then
    step "capi-tests/reference.sh" capi-tests/reference.sh
    step "capi-tests/reference.sh --draft" capi-tests/reference.sh --draft
fi

echo
echo "test.sh: $(($(date +%s) - start_all)) s"
[ $failed -gt 0 ] && echo "failed steps: ${failed_steps[*]}"
echo "steps: $passed passed, $failed failed"
[ $failed -eq 0 ]
