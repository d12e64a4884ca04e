#!/usr/bin/env bash
# The library under a sanitizer, with the C tests of capi-tests/ and a subset of libzmq's own
# suite (capi-tests/reference.sh) against it. Any report fails that test.
#
# usage: capi-tests/sanitize.sh [--thread] [test_name ...]
#   (default)  AddressSanitizer, with LeakSanitizer (a leak left after zmq_ctx_term fails the
#              test): every C test (the draft API's in capi-tests/draft/ too), built with
#              -fsanitize=address,undefined (so UndefinedBehaviorSanitizer watches the C side
#              too), then REFERENCE_ASAN, and REFERENCE_DRAFT with the draft API
#   --thread   ThreadSanitizer: every C test but the two volume tests, then REFERENCE_TSAN (shutdown and ctx_term races,
#              inproc connect/bind races, many sockets and threads), and REFERENCE_DRAFT
# The library is built with the draft API (a superset: the stable tests use the rest), so that
# the thread-safe sockets, the poller and udp run under the sanitizers too.
# Naming tests runs only those C tests. The instrumented library is built with the nightly
# toolchain pinned in capi-tests/lib.sh (-Zsanitizer needs it; ThreadSanitizer also rebuilds std with -Zbuild-std) into
# target/asan/ or target/tsan/, beside the release build, which it never touches.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ROOT=$ZMQRS_ROOT
cd "$ROOT"

# libzmq's tests that work the library hardest: shutdown and ctx_term races, every pattern's
# spec tests, security, heartbeats, monitor, proxy, HWM, the stream and router corners.
REFERENCE_ASAN="test_shutdown_stress test_ctx_destroy test_ctx_options test_many_sockets
 test_spec_req test_spec_rep test_spec_dealer test_spec_router test_spec_pushpull
 test_proxy_terminate test_xpub_nodrop test_xpub_manual test_sub_forward test_proxy test_proxy_single_socket
 test_monitor test_heartbeats test_security_null test_security_plain test_security_curve
 test_security_zap test_metadata test_stream test_stream_disconnect test_router_mandatory
 test_hwm test_hwm_pubsub test_sockopt_hwm test_inproc_connect test_term_endpoint
 test_unbind_wildcard test_msg_ffn test_req_correlate test_reconnect_ivl test_abstract_ipc"

# Those where threads meet: termination while others block, connects racing binds, many sockets.
REFERENCE_TSAN="test_shutdown_stress test_ctx_destroy test_inproc_connect test_many_sockets
 test_term_endpoint test_proxy_terminate test_spec_pushpull test_reqrep_inproc test_pair_inproc
 test_sub_forward test_monitor test_security_zap"

# The draft API's tests where threads share sockets, wait in pollers, or use udp.
REFERENCE_DRAFT="test_thread_safe test_client_server test_poller test_radio_dish test_scatter_gather
 test_peer test_channel test_dgram test_hello_msg test_disconnect_msg test_router_notify"

# This gcc's sanitizer runtimes stop with "unexpected memory mapping" on kernels that
# randomize more of the address space (vm.mmap_rnd_bits=32): run without randomization where
# the system lets us (setarch -R; a container's seccomp may refuse it).
if [ -z "${ZMQRS_NO_ASLR:-}" ] && setarch "$(uname -m)" -R true 2>/dev/null; then
    export ZMQRS_NO_ASLR=1
    exec setarch "$(uname -m)" -R "$0" "$@"
fi

MODE=address
if [ "${1:-}" = --thread ]; then
    MODE=thread
    shift
fi

zmqrs_nightly || exit 2
host=$(rustc -vV | sed -n 's/^host: //p')
# RUSTFLAGS replaces .cargo/config.toml's flags: repeat the one that is there.
if [ $MODE = address ]; then
    short=asan
    build=(cargo "+$ZMQRS_NIGHTLY" build --release --features draft --target "$host")
    cflags=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
    extra=()
    REFERENCE_SUBSET=$REFERENCE_ASAN
else
    short=tsan
    zmqrs_nightly rust-src || exit 2
    build=(cargo "+$ZMQRS_NIGHTLY" build --release --features draft -Zbuild-std --target "$host")
    cflags=(-fsanitize=thread)
    extra=(capi-tests/tsan_shim.c -rdynamic)
    REFERENCE_SUBSET=$REFERENCE_TSAN
fi
RUSTFLAGS="-Zsanitizer=$MODE --cfg poly1305_force_soft" CARGO_TARGET_DIR="$ROOT/target/$short" \
    "${build[@]}" || exit 1
LIB="$ROOT/target/$short/$host/release/libzmq.so"
BIN="$ROOT/capi-tests/bin-$short"
ZMQRS_LIB=$LIB zmqrs_stage_lib "$BIN/lib"

export ASAN_OPTIONS="detect_leaks=1:exitcode=23:abort_on_error=0:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
export ZMQRS_SANITIZER=$MODE
# The stress tests move 1/10 of their volume here (the full volume runs in ./test.sh).
export ZMQRS_TEST_SCALE=10

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    for src in capi-tests/test_*.c capi-tests/draft/test_*.c; do
        t=${src#capi-tests/}
        t=${t%.c}
        # Under TSan (5 to 15 times slower) the two volume tests add a minute and a half and
        # no path the other tests' threads do not already take.
        [ $MODE = thread ] && [[ " test_stress_volume test_no_loss_on_close " == *" $t "* ]] && continue
        tests+=("$t")
    done
    reference=1
else
    reference=0
fi

passed=0 failed=()
for t in "${tests[@]}"; do
    t0=$(date +%s)
    # A name is a test of capi-tests/ (test_x) or of capi-tests/draft/ (draft/test_x).
    [ -f "capi-tests/$t.c" ] || { [ -f "capi-tests/draft/$t.c" ] && t="draft/$t"; }
    exe="$BIN/$(basename "$t")"
    draft=()
    [[ $t == draft/* ]] && draft=(-DZMQ_BUILD_DRAFT_API)
    if ! gcc -O1 -g "${cflags[@]}" "${draft[@]}" \
        -fno-omit-frame-pointer -Wall -Wextra -Werror -std=c99 -Iinclude -Icapi-tests -pthread \
        -o "$exe" "capi-tests/$t.c" "${extra[@]}" -L"$BIN/lib" -Wl,-rpath,"$BIN/lib" -Wl,--enable-new-dtags \
        -lzmq; then
        failed+=("$t(build)")
        continue
    fi
    zmqrs_check_ours "$exe" "$BIN/lib" || { failed+=("$t(wrong lib)"); continue; }
    log="$exe.log"
    env -u LD_LIBRARY_PATH -u LD_PRELOAD timeout 600 "$exe" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        echo "$short: PASS $t ($(($(date +%s) - t0)) s)"
    else
        failed+=("$t")
        echo "$short: FAIL $t (exit $rc, $(($(date +%s) - t0)) s); the end of $log:"
        grep -v '^ *#[0-9]* 0x[0-9a-f]* in \(std::\|core::\|__\)' "$log" | tail -40 | sed 's/^/    | /'
    fi
done
echo "$short: capi-tests: $passed passed, ${#failed[@]} failed ${failed[*]}"

status=0
[ ${#failed[@]} -eq 0 ] || status=1
if [ $reference = 1 ]; then
    # shellcheck disable=SC2086
    ZMQRS_LIB=$LIB capi-tests/reference.sh --$short -v $REFERENCE_SUBSET || status=1
    # shellcheck disable=SC2086
    ZMQRS_LIB=$LIB capi-tests/reference.sh --$short --draft -v $REFERENCE_DRAFT || status=1
fi
exit $status
