#!/usr/bin/env bash
# CPU time per exchange at fixed rates, ours against Debian's libzmq: bench/cpu_bench.c built
# against each, a REQ/REP exchange (or a PUB/SUB message) every INTERVAL over tcp on loopback,
# in two processes. For each interval: the CPU time (user + sys, both processes, all their
# threads) per exchange, the ratio ours/theirs (lower is better), and the mean round trip (for
# PUB/SUB: the mean time of a send). PUB/SUB counts the messages the SUB received (a PUB sending
# back to back drops at the high-water mark, and a dropped message costs less than a delivered one).
#
# usage: bench/cpu.sh [--pinned] [--omq] [--repeat N] [interval_us ...]
#                                                      (default 0 20 100 1000 10000)
#   --pinned  each process held to one CPU (taskset -c 0 and -c 1)
#   --omq     adds omq-libzmq's columns (see omq_build in bench/lib.sh; built once, minutes)
# Each figure is the median of N runs (3), the two libraries' runs interleaved. Not part of test.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
REPEAT=3
PINNED=0
OMQ=0
INTERVALS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --pinned) PINNED=1 ;;
    --omq) OMQ=1 ;;
    --repeat) REPEAT=$2; shift ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) INTERVALS+=("$1") ;;
    esac
    shift
done
[ ${#INTERVALS[@]} -gt 0 ] || INTERVALS=(0 20 100 1000 10000)

zmqrs_need util-linux || exit 2
B="$CACHE/bench-cpu"
bench_build_c "$B" cpu_bench || exit $?
[ $OMQ = 1 ] && { omq_build || exit $?; }

# run WHO SERVER_ROLE CLIENT_ROLE INTERVAL COUNT -> "cpu_per_exchange_us latency_us" or "- -"
run() {
    local who=$1 srole=$2 crole=$3 ivl=$4 count=$5 out ep cpu_s line
    out=$(mktemp)
    pin 0 env $(who_env "$who") timeout 120 "$B/$(who_bin "$who")/cpu_bench" "$srole" >"$out" 2>/dev/null &
    local pid=$! i
    for ((i = 0; i < 500; i++)); do
        ep=$(head -n1 "$out")
        [ -n "$ep" ] && break
        sleep 0.01
    done
    line=$(pin 1 env $(who_env "$who") timeout 120 "$B/$(who_bin "$who")/cpu_bench" "$crole" "$ep" "$ivl" "$count" 2>/dev/null)
    wait "$pid"
    read -r cpu_s received < <(sed -n 2p "$out")
    rm -f "$out"
    if [ -z "$line" ] || [ -z "$cpu_s" ] || [ "${received:-0}" -le 0 ]; then echo "- -"; return; fi
    read -r cpu_c lat <<<"$line"
    [ "$srole" = rep ] && received=$count # the REP also counted the set-up exchange
    awk -v a="$cpu_c" -v b="$cpu_s" -v n="$received" -v l="$lat" 'BEGIN { printf "%.2f %.1f\n", (a + b) / n, l }'
}

count_for() { # about a second, at least 150 exchanges, at most 20000
    local ivl=$1
    [ "$ivl" -le 50 ] && { echo 20000; return; }
    clamp "$((1000000 / ivl))" 150 20000
}

for pattern in reqrep pubsub; do
    if [ $pattern = reqrep ]; then srole=rep crole=req; else srole=sub crole=pub; fi
    echo "$pattern$([ $PINNED = 1 ] && echo ', pinned (one CPU per process)'): CPU time per exchange (message received), both processes"
    printf '%-10s | %10s %10s %7s | %10s %10s%s\n' interval "theirs" "ours" "o/t" "rtt theirs" "rtt ours" \
        "$(omq_cols "omq" "q/t" "rtt omq" "")"
    printf '%-10s | %10s %10s %7s | %10s %10s%s\n' "[us]" "[us CPU]" "[us CPU]" "" "[us]" "[us]" \
        "$(omq_cols "[us CPU]" "" "[us]" "")"
    printf -- '-----------+--------------------------------+----------------------\n'
    for ivl in "${INTERVALS[@]}"; do
        count=$(count_for "$ivl")
        ct=() co=() lt=() lo=() cq=() lq=()
        for _ in $(seq "$REPEAT"); do
            read -r c l <<<"$(run theirs $srole $crole "$ivl" "$count")"
            ct+=("$c") lt+=("$l")
            read -r c l <<<"$(run ours $srole $crole "$ivl" "$count")"
            co+=("$c") lo+=("$l")
            if [ $OMQ = 1 ]; then
                read -r c l <<<"$(run omq $srole $crole "$ivl" "$count")"
                cq+=("$c") lq+=("$l")
            fi
        done
        mct=$(median "${ct[@]}") mco=$(median "${co[@]}") mcq=$(median "${cq[@]}")
        printf '%-10s | %10s %10s %7s | %10s %10s%s\n' "$ivl" "$mct" "$mco" "$(ratio "$mco" "$mct")" \
            "$(median "${lt[@]}")" "$(median "${lo[@]}")" "$(omq_cols "$mcq" "$(ratio "$mcq" "$mct")" "$(median "${lq[@]}")" "")"
    done
    echo
done
