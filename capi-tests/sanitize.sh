#!/usr/bin/env bash
# The library under AddressSanitizer, which brings LeakSanitizer with it: every C test of
# capi-tests/ (built with -fsanitize=address,undefined, so UndefinedBehaviorSanitizer watches the
# C side), then a subset of libzmq's own suite (capi-tests/reference.sh --asan). Any report (a bad
# access, a leak left after zmq_ctx_term, undefined behaviour) fails that test.
#
# usage: capi-tests/sanitize.sh [test_name ...]     (default: every capi-tests/test_*.c, then the
#                                                    reference subset below)
# The instrumented library is built with the nightly toolchain (-Zsanitizer needs it) into
# target/asan/, beside the release build it never touches.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ROOT=$ZMQRS_ROOT
cd "$ROOT"

# libzmq's tests that work the library hardest: shutdown and ctx_term races, every pattern's
# spec tests, security, heartbeats, monitor, proxy, HWM, the stream and router corners.
REFERENCE_SUBSET="test_shutdown_stress test_ctx_destroy test_ctx_options test_many_sockets
 test_spec_req test_spec_rep test_spec_dealer test_spec_router test_spec_pushpull
 test_proxy_terminate test_xpub_nodrop test_xpub_manual test_sub_forward test_proxy test_proxy_single_socket
 test_monitor test_heartbeats test_security_null test_security_plain test_security_curve
 test_security_zap test_metadata test_stream test_stream_disconnect test_router_mandatory
 test_hwm test_hwm_pubsub test_sockopt_hwm test_inproc_connect test_term_endpoint
 test_unbind_wildcard test_msg_ffn test_req_correlate test_reconnect_ivl test_abstract_ipc"

rustup run nightly rustc --version >/dev/null 2>&1 ||
    rustup toolchain install nightly --profile minimal || exit 2
host=$(rustc -vV | sed -n 's/^host: //p')
# RUSTFLAGS replaces .cargo/config.toml's flags: repeat the one that is there.
RUSTFLAGS="-Zsanitizer=address --cfg poly1305_force_soft" CARGO_TARGET_DIR="$ROOT/target/asan" \
    cargo +nightly build --release --target "$host" || exit 1
LIB="$ROOT/target/asan/$host/release/libzmq.so"
BIN="$ROOT/capi-tests/bin-asan"
ZMQRS_LIB=$LIB zmqrs_stage_lib "$BIN/lib"

export ASAN_OPTIONS="detect_leaks=1:exitcode=23:abort_on_error=0:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The stress tests move 1/10 of their volume here (the full volume runs in ./test.sh).
export ZMQRS_TEST_SCALE=10

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    for src in capi-tests/test_*.c; do tests+=("$(basename "${src%.c}")"); done
    reference=1
else
    reference=0
fi

passed=0 failed=()
for t in "${tests[@]}"; do
    t0=$(date +%s)
    if ! gcc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        -fno-omit-frame-pointer -Wall -Wextra -Werror -std=c99 -Iinclude -Icapi-tests -pthread \
        -o "$BIN/$t" "capi-tests/$t.c" -L"$BIN/lib" -Wl,-rpath,"$BIN/lib" -Wl,--enable-new-dtags \
        -lzmq; then
        failed+=("$t(build)")
        continue
    fi
    zmqrs_check_ours "$BIN/$t" "$BIN/lib" || { failed+=("$t(wrong lib)"); continue; }
    log="$BIN/$t.log"
    env -u LD_LIBRARY_PATH -u LD_PRELOAD timeout 600 "$BIN/$t" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        echo "asan: PASS $t ($(($(date +%s) - t0)) s)"
    else
        failed+=("$t")
        echo "asan: FAIL $t (exit $rc, $(($(date +%s) - t0)) s); the end of $log:"
        grep -v '^ *#[0-9]* 0x[0-9a-f]* in \(std::\|core::\|__\)' "$log" | tail -40 | sed 's/^/    | /'
    fi
done
echo "asan: capi-tests: $passed passed, ${#failed[@]} failed ${failed[*]}"

status=0
[ ${#failed[@]} -eq 0 ] || status=1
if [ $reference = 1 ]; then
    # shellcheck disable=SC2086
    ZMQRS_LIB=$LIB capi-tests/reference.sh --asan -v $REFERENCE_SUBSET || status=1
fi
exit $status
