#!/usr/bin/env bash
# inproc throughput and latency: libzmq's perf/inproc_thr.cpp, perf/inproc_lat.cpp and
# perf/proxy_thr.cpp (from the cached Debian source package, see capi-tests/reference.sh) built
# twice, against Debian's libzmq and against ours, run side by side at 1 B, 64 B, 1 KiB and 64 KiB.
#
# usage: bench/inproc.sh [--pinned] [--seconds S] [--repeat N] [size ...]
#   --pinned  the process is held to one CPU (taskset -c 0): all its threads share it
#   --omq     adds omq-libzmq's columns (see omq_build in bench/lib.sh; built once, minutes)
#   message counts are calibrated on Debian's libzmq so that each run takes about S seconds (2);
#   each figure is the median of N runs (3), the two libraries' runs interleaved.
# Prints two tables: throughput in msg/s and latency in us for both, and ratios ours/theirs
# (throughput: higher is better; latency: lower is better); then proxy_thr (two XPUBs, a
# zmq_proxy_steerable XSUB/XPUB proxy and a SUB, all inproc): throughput and CPU time (user +
# sys, all threads) per message. Not part of test.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
SECONDS_PER_RUN=2
REPEAT=3
PINNED=0
OMQ=0
SIZES=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --pinned) PINNED=1 ;;
    --omq) OMQ=1 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) SIZES+=("$1") ;;
    esac
    shift
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1 64 1024 65536)

zmqrs_need time util-linux || exit 2
B="$CACHE/bench"
bench_build "$B" inproc_thr inproc_lat proxy_thr || exit $?
[ $OMQ = 1 ] && { omq_build || exit $?; }
CPUFILE=$(mktemp "${TMPDIR:-/tmp}/zmqrs-bench-inproc.XXXXXX") || exit 2
trap 'rm -f "$CPUFILE"' EXIT

# run WHO PROG SIZE COUNT -> prints the figure (msg/s or us), or "-" on failure; the run's CPU
# time (user + sys, seconds) is left in $CPUFILE
run() {
    local out
    out=$(pin 0 env $(who_env "$1") timeout 120 /usr/bin/time -f '%U %S' -o "$CPUFILE" \
        "$B/$(who_bin "$1")/bin/$2" "$3" "$4" 2>&1) || { echo -; return; }
    case $2 in
    inproc_thr | proxy_thr) sed -n 's/^mean throughput: \([0-9]*\) \[msg\/s\]/\1/p' <<<"$out" ;;
    inproc_lat) sed -n 's/^average latency: \([0-9.]*\) \[us\]/\1/p' <<<"$out" ;;
    esac
}
cpu_per() { # cpu_per COUNT -> CPU time of the last run per message in us, or "-"
    awk -v n="$1" '{ printf "%.3f", ($1 + $2) * 1e6 / n; ok = 1 } END { if (!ok) print "-" }' "$CPUFILE"
}
mode=$([ $PINNED = 1 ] && echo "pinned: the process on one CPU" || echo "unpinned")
echo "inproc_thr / inproc_lat ($mode)"

printf '%-8s | %12s %12s %7s | %10s %10s %7s%s\n' size "thr theirs" "thr ours" ratio "lat theirs" "lat ours" ratio \
    "$(omq_cols "thr omq" ratio "lat omq" ratio)"
printf '%-8s | %12s %12s %7s | %10s %10s %7s%s\n' "" "[msg/s]" "[msg/s]" "o/t" "[us]" "[us]" "o/t" \
    "$(omq_cols "[msg/s]" q/t "[us]" q/t)"
printf -- '---------+-------------------------------------+-------------------------------\n'
for size in "${SIZES[@]}"; do
    # Calibrate on Debian's libzmq, then run both with the same counts.
    t0=$(run theirs inproc_thr "$size" 100000)
    [ "$t0" = - ] && t0=100000
    thr_count=$(clamp "$(awk -v t="$t0" -v s="$SECONDS_PER_RUN" 'BEGIN { print t * s }')" 10000 50000000)
    l0=$(run theirs inproc_lat "$size" 10000)
    [ "$l0" = - ] && l0=50
    lat_count=$(clamp "$(awk -v l="$l0" -v s="$SECONDS_PER_RUN" 'BEGIN { print s * 1e6 / (2 * l) }')" 1000 5000000)

    tt=() to=() lt=() lo=() tq=() lq=()
    for _ in $(seq "$REPEAT"); do
        tt+=("$(run theirs inproc_thr "$size" "$thr_count")")
        to+=("$(run ours inproc_thr "$size" "$thr_count")")
        lt+=("$(run theirs inproc_lat "$size" "$lat_count")")
        lo+=("$(run ours inproc_lat "$size" "$lat_count")")
        if [ $OMQ = 1 ]; then
            tq+=("$(run omq inproc_thr "$size" "$thr_count")")
            lq+=("$(run omq inproc_lat "$size" "$lat_count")")
        fi
    done
    thr_t=$(median "${tt[@]}") thr_o=$(median "${to[@]}")
    lat_t=$(median "${lt[@]}") lat_o=$(median "${lo[@]}")
    thr_q=$(median "${tq[@]}") lat_q=$(median "${lq[@]}")
    label=$(size_label "$size")
    printf '%-8s | %12s %12s %7s | %10s %10s %7s%s\n' "$label" "$thr_t" "$thr_o" "$(ratio "$thr_o" "$thr_t")" \
        "$lat_t" "$lat_o" "$(ratio "$lat_o" "$lat_t")" \
        "$(omq_cols "$thr_q" "$(ratio "$thr_q" "$thr_t")" "$lat_q" "$(ratio "$lat_q" "$lat_t")")"
done
echo "(median of $REPEAT runs each, counts calibrated to about ${SECONDS_PER_RUN} s per run on Debian's libzmq; '-' = a run failed)"

echo
echo "proxy_thr ($mode): 2 XPUB -> zmq_proxy_steerable (XSUB/XPUB) -> SUB, inproc"
printf '%-8s | %12s %12s %7s | %10s %10s %7s%s\n' size "thr theirs" "thr ours" ratio "cpu theirs" "cpu ours" ratio \
    "$(omq_cols "thr omq" ratio "cpu omq" ratio)"
printf '%-8s | %12s %12s %7s | %10s %10s %7s%s\n' "" "[msg/s]" "[msg/s]" "o/t" "[us/msg]" "[us/msg]" "o/t" \
    "$(omq_cols "[msg/s]" q/t "[us/msg]" q/t)"
printf -- '---------+-------------------------------------+-------------------------------\n'
for size in "${SIZES[@]}"; do
    t0=$(run theirs proxy_thr "$size" 100000)
    [ "$t0" = - ] && t0=100000
    count=$(clamp "$(awk -v t="$t0" -v s="$SECONDS_PER_RUN" 'BEGIN { print t * s }')" 10000 50000000)
    tt=() to=() ct=() co=() tq=() cq=()
    for _ in $(seq "$REPEAT"); do
        tt+=("$(run theirs proxy_thr "$size" "$count")") ct+=("$(cpu_per "$count")")
        to+=("$(run ours proxy_thr "$size" "$count")") co+=("$(cpu_per "$count")")
        # omq-libzmq's proxy_thr at 64 KiB runs into the timeout: once is enough per size.
        if [ $OMQ = 1 ] && [ "${tq[0]:-}" != - ]; then
            tq+=("$(run omq proxy_thr "$size" "$count")") cq+=("$(cpu_per "$count")")
        fi
    done
    thr_t=$(median "${tt[@]}") thr_o=$(median "${to[@]}") thr_q=$(median "${tq[@]}")
    cpu_t=$(median "${ct[@]}") cpu_o=$(median "${co[@]}") cpu_q=$(median "${cq[@]}")
    printf '%-8s | %12s %12s %7s | %10s %10s %7s%s\n' "$(size_label "$size")" "$thr_t" "$thr_o" \
        "$(ratio "$thr_o" "$thr_t")" "$cpu_t" "$cpu_o" "$(ratio "$cpu_o" "$cpu_t")" \
        "$(omq_cols "$thr_q" "$(ratio "$thr_q" "$thr_t")" "$cpu_q" "$(ratio "$cpu_q" "$cpu_t")")"
done
echo "(median of $REPEAT runs each; CPU: user + sys of the whole process per message; '-' = a run failed)"
