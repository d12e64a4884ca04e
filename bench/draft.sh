#!/usr/bin/env bash
# The draft API side by side with libzmq built with its draft API (Debian's source, built once
# into the reference cache): bench/draft_bench.c built against each.
#   - one ready socket among N (1, 100, 1000): microseconds per zmq_poll and per
#     zmq_poller_wait (ours must stay flat as N grows: a wait looks at what may be ready only);
#   - SERVER/CLIENT throughput over tcp at 64 B and 1 KiB (one process, a CLIENT thread).
# usage: bench/draft.sh [--repeat N]     (each figure the median of N runs, 3; interleaved)
# Not part of test.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
REPEAT=3
[ "${1:-}" = --repeat ] && REPEAT=$2
LIB="$ZMQRS_ROOT/target/draft/release/libzmq.so"
[ -f "$LIB" ] || { echo "bench: $LIB missing (cargo build --release --features draft --target-dir target/draft)" >&2; exit 2; }
THEIRS=$(zmqrs_libzmq_draft) || exit 2
B="$CACHE/bench-draft"
mkdir -p "$B/theirs" "$B/ours/lib"
gcc -O2 -pthread -Wall -Wextra -Werror -std=c99 -I"$THEIRS/include" -o "$B/theirs/draft_bench" \
    "$here/draft_bench.c" -L"$THEIRS/lib" -Wl,-rpath,"$THEIRS/lib" -Wl,--enable-new-dtags -lzmq || exit 1
ZMQRS_LIB=$LIB zmqrs_stage_lib "$B/ours/lib"
gcc -O2 -pthread -Wall -Wextra -Werror -std=c99 -I"$ZMQRS_ROOT/include" -o "$B/ours/draft_bench" \
    "$here/draft_bench.c" -L"$B/ours/lib" -Wl,-rpath,"$B/ours/lib" -Wl,--enable-new-dtags -lzmq || exit 1
zmqrs_check_ours "$B/ours/draft_bench" "$B/ours/lib" || exit 1
zmqrs_check_ours "$B/theirs/draft_bench" "$THEIRS/lib" || exit 1

run() { env -u LD_LIBRARY_PATH timeout 300 "$B/$1/draft_bench" "${@:2}" 2>/dev/null || echo -; }

printf '%-22s | %10s %10s %7s\n' "one ready among N" "theirs" "ours" "o/t"
printf '%-22s | %10s %10s %7s\n' "" "[us/call]" "[us/call]" ""
printf -- '-----------------------+-------------------------------\n'
for mode in poll poller; do
    for n in 1 100 1000; do
        iter=$((200000 / (n / 10 + 1)))
        t=() o=()
        for _ in $(seq "$REPEAT"); do
            t+=("$(run theirs "$mode" "$n" "$iter")")
            o+=("$(run ours "$mode" "$n" "$iter")")
        done
        mt=$(median "${t[@]}") mo=$(median "${o[@]}")
        printf '%-22s | %10s %10s %7s\n' "zmq_$mode N=$n" "$mt" "$mo" "$(ratio "$mo" "$mt")"
    done
done
echo
printf '%-22s | %10s %10s %7s\n' "SERVER/CLIENT tcp" "theirs" "ours" "o/t"
printf '%-22s | %10s %10s %7s\n' "" "[msg/s]" "[msg/s]" ""
printf -- '-----------------------+-------------------------------\n'
for size in 64 1024; do
    count=$((size < 1024 ? 2000000 : 500000))
    t=() o=()
    for _ in $(seq "$REPEAT"); do
        t+=("$(run theirs cs "$size" "$count")")
        o+=("$(run ours cs "$size" "$count")")
    done
    mt=$(median "${t[@]}") mo=$(median "${o[@]}")
    printf '%-22s | %10s %10s %7s\n' "$(size_label "$size")" "$mt" "$mo" "$(ratio "$mo" "$mt")"
done
