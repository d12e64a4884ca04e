#!/usr/bin/env bash
# Interop of the draft API: our draft build (target/draft/release/libzmq.so) against libzmq built
# with its draft API (Debian's source, built once into the reference cache: a test peer only).
# capi-tests/interop/draft_peer.c is built against each; every case runs one side of each library,
# in two processes, both ways round:
#   SERVER / CLIENT over tcp and ipc (routing ids, single-part messages)
#   RADIO / DISH over tcp (JOIN commands, group frames) and over udp (libzmq's datagrams)
# One line per case, PASS name / FAIL name, then "interop-draft: N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
LIB="$ZMQRS_ROOT/target/draft/release/libzmq.so"
[ -f "$LIB" ] || { echo "interop-draft: $LIB missing (cargo build --release --features draft --target-dir target/draft)"; exit 1; }
THEIRS_PREFIX=$(zmqrs_libzmq_draft) || { echo "interop-draft: cannot build libzmq with drafts"; exit 1; }

STAGE=$HERE/bin-draft/lib
mkdir -p "$STAGE"
ZMQRS_LIB=$LIB zmqrs_stage_lib "$STAGE"
OURS=$HERE/bin-draft/draft-peer-ours
THEIRS=$HERE/bin-draft/draft-peer-theirs
CFLAGS="-O1 -g -Wall -Wextra -Werror -std=c99"
${CC:-gcc} $CFLAGS -I"$ZMQRS_ROOT/include" -o "$OURS" "$HERE/interop/draft_peer.c" \
    -L"$STAGE" -Wl,-rpath,"$STAGE" -Wl,--enable-new-dtags -lzmq || { echo "interop-draft: cannot build the peer (ours)"; exit 1; }
${CC:-gcc} $CFLAGS -I"$THEIRS_PREFIX/include" -o "$THEIRS" "$HERE/interop/draft_peer.c" \
    -L"$THEIRS_PREFIX/lib" -Wl,-rpath,"$THEIRS_PREFIX/lib" -Wl,--enable-new-dtags -lzmq || { echo "interop-draft: cannot build the peer (theirs)"; exit 1; }
zmqrs_check_ours "$OURS" "$STAGE" || exit 1
zmqrs_check_ours "$THEIRS" "$THEIRS_PREFIX/lib" || exit 1

WORK=$(mktemp -d /tmp/zmqrs-interop-draft.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0

peer() { # peer ours|theirs ARGS...
    local who=$1
    shift
    local bin=$OURS
    [ "$who" = theirs ] && bin=$THEIRS
    env -u LD_LIBRARY_PATH -u LD_PRELOAD timeout 20 "$bin" "$@"
}

free_udp_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_case NAME "FIRST SIDE ARGS" "SECOND SIDE ARGS": the first side starts and prints its
# endpoint; the second gets it as its last argument (an ENDPOINT placeholder).
run_case() {
    local name=$1 first=$2 second=$3 d="$WORK/$1" ep="" i pid rc1 rc2
    # The sides' arguments are split into words; an endpoint's "*" is no file pattern.
    local -
    set -f
    mkdir -p "$d"
    export INTEROP_SYNC="$d/sync"
    # shellcheck disable=SC2086
    peer $first >"$d/first.out" 2>"$d/first.err" &
    pid=$!
    for ((i = 0; i < 500; i++)); do
        ep=$(head -n1 "$d/first.out" 2>/dev/null)
        [ -n "$ep" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.01
    done
    if [ -n "$ep" ]; then
        # shellcheck disable=SC2086
        peer ${second/ENDPOINT/$ep} >"$d/second.out" 2>"$d/second.err"
        rc2=$?
    else
        echo "no endpoint" >"$d/second.err"
        rc2=1
    fi
    wait "$pid"
    rc1=$?
    if [ $rc1 = 0 ] && [ $rc2 = 0 ]; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        echo "    first ($first, exit $rc1): $(tr '\n' ' ' <"$d/first.err" | cut -c1-300)"
        echo "    second ($second, exit $rc2): $(tr '\n' ' ' <"$d/second.err" | cut -c1-300)"
        failed=$((failed + 1))
    fi
}

for pair in "ours theirs" "theirs ours"; do
    read -r a b <<<"$pair"
    for tr in 'tcp://127.0.0.1:*' 'ipc://*'; do
        t=${tr%%:*}
        run_case "$t-$a.SERVER.bind-$b.CLIENT.connect" "$a server $tr" "$b client ENDPOINT"
    done
    run_case "tcp-$a.RADIO.bind-$b.DISH.connect" "$a radio bind tcp://127.0.0.1:*" "$b dish connect ENDPOINT"
    run_case "tcp-$a.DISH.bind-$b.RADIO.connect" "$a dish bind tcp://127.0.0.1:*" "$b radio connect ENDPOINT"
    port=$(free_udp_port)
    run_case "udp-$a.DISH.bind-$b.RADIO.connect" "$a dish bind udp://127.0.0.1:$port" "$b radio connect ENDPOINT"
done

echo "interop-draft: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
