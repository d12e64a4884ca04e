#!/usr/bin/env bash
# The cost of security: bench/security_thr.c (a PUSH thread sending to a PULL over tcp on
# loopback, in one process) built twice, against Debian's libzmq (with libsodium) and against
# ours, run side by side with the NULL and the CURVE mechanism at 64 B, 1 KiB and 64 KiB.
#
# usage: bench/security.sh [--seconds S] [--repeat N] [size ...]
#   message counts are calibrated on Debian's libzmq so that each run takes about S seconds (1.5);
#   each figure is the median of N runs (3), the two libraries' runs interleaved.
# Prints a table per mechanism: throughput in msg/s and CPU time per message (user + sys, both
# threads) in us for both, then the 64 B REQ/REP latency, and ratios ours/theirs (throughput:
# higher is better; latency and CPU: lower is better). Not part of test.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
SECONDS_PER_RUN=1.5
REPEAT=3
SIZES=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) SIZES+=("$1") ;;
    esac
    shift
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(64 1024 65536)

zmqrs_need gcc libzmq3-dev || exit 2
[ -f "$ZMQRS_LIB" ] || { echo "bench: $ZMQRS_LIB missing; run cargo build --release" >&2; exit 2; }
B="$CACHE/bench-security"
mkdir -p "$B/theirs" "$B/ours/lib"
gcc -O2 -pthread -Wall -Wextra -Werror -std=c99 -I/usr/include -o "$B/theirs/security_thr" \
    "$here/security_thr.c" -lzmq || exit 1
zmqrs_stage_lib "$B/ours/lib"
gcc -O2 -pthread -Wall -Wextra -Werror -std=c99 -I"$ZMQRS_ROOT/include" -o "$B/ours/security_thr" \
    "$here/security_thr.c" -L"$B/ours/lib" -Wl,-rpath,"$B/ours/lib" -Wl,--enable-new-dtags -lzmq ||
    exit 1
zmqrs_check_ours "$B/ours/security_thr" "$B/ours/lib" || exit 1

run() { # run WHO MODE MECH SIZE COUNT -> "figure cpu_us", or "- -" on failure
    env -u LD_LIBRARY_PATH timeout 120 "$B/$1/security_thr" "$2" "$3" "$4" "$5" 2>/dev/null || echo "- -"
}

for mech in null curve; do
    echo "== $mech"
    printf '%-8s | %12s %12s %7s | %10s %10s %7s\n' size "thr theirs" "thr ours" ratio "cpu theirs" "cpu ours" ratio
    printf '%-8s | %12s %12s %7s | %10s %10s %7s\n' "" "[msg/s]" "[msg/s]" "o/t" "[us/msg]" "[us/msg]" "o/t"
    printf -- '---------+-------------------------------------+-------------------------------\n'
    for size in "${SIZES[@]}"; do
        read -r t0 _ <<<"$(run theirs thr "$mech" "$size" 20000)"
        [ "$t0" = - ] && t0=100000
        count=$(clamp "$(awk -v t="$t0" -v s="$SECONDS_PER_RUN" 'BEGIN { print t * s }')" 10000 20000000)
        tt=() to=() ct=() co=()
        for _ in $(seq "$REPEAT"); do
            read -r a b <<<"$(run theirs thr "$mech" "$size" "$count")"
            tt+=("$a") ct+=("$b")
            read -r a b <<<"$(run ours thr "$mech" "$size" "$count")"
            to+=("$a") co+=("$b")
        done
        thr_t=$(median "${tt[@]}") thr_o=$(median "${to[@]}")
        cpu_t=$(median "${ct[@]}") cpu_o=$(median "${co[@]}")
        printf '%-8s | %12s %12s %7s | %10s %10s %7s\n' "$(size_label "$size")" "$thr_t" "$thr_o" \
            "$(ratio "$thr_o" "$thr_t")" "$cpu_t" "$cpu_o" "$(ratio "$cpu_o" "$cpu_t")"
    done
    # Latency: REQ/REP round trips of 64 B.
    read -r l0 _ <<<"$(run theirs lat "$mech" 64 2000)"
    [ "$l0" = - ] && l0=50
    count=$(clamp "$(awk -v l="$l0" -v s="$SECONDS_PER_RUN" 'BEGIN { print s * 1e6 / (2 * l) }')" 1000 2000000)
    lt=() lo=() ct=() co=()
    for _ in $(seq "$REPEAT"); do
        read -r a b <<<"$(run theirs lat "$mech" 64 "$count")"
        lt+=("$a") ct+=("$b")
        read -r a b <<<"$(run ours lat "$mech" 64 "$count")"
        lo+=("$a") co+=("$b")
    done
    lat_t=$(median "${lt[@]}") lat_o=$(median "${lo[@]}")
    cpu_t=$(median "${ct[@]}") cpu_o=$(median "${co[@]}")
    printf '%-8s | %12s %12s %7s | %10s %10s %7s\n' "lat 64 B" "${lat_t}us" "${lat_o}us" \
        "$(ratio "$lat_o" "$lat_t")" "$cpu_t" "$cpu_o" "$(ratio "$cpu_o" "$cpu_t")"
done
echo "(median of $REPEAT runs each, counts calibrated to about ${SECONDS_PER_RUN} s per run on Debian's libzmq;"
echo " latency: half a REQ/REP round trip, its CPU per round trip; '-' = a run failed)"
