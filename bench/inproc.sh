#!/usr/bin/env bash
# inproc throughput and latency: libzmq's perf/inproc_thr.cpp and perf/inproc_lat.cpp (from the
# cached Debian source package, see capi-tests/reference.sh) built twice, against Debian's libzmq
# and against ours, run side by side at 1 B, 64 B, 1 KiB and 64 KiB.
#
# usage: bench/inproc.sh [--seconds S] [--repeat N] [size ...]
#   message counts are calibrated on Debian's libzmq so that each run takes about S seconds (2);
#   each figure is the median of N runs (3), the two libraries' runs interleaved.
# Prints a table: throughput in msg/s and latency in us for both, and ratios ours/theirs
# (throughput: higher is better; latency: lower is better). Not part of test.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
SECONDS_PER_RUN=2
REPEAT=3
SIZES=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) SIZES+=("$1") ;;
    esac
    shift
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1 64 1024 65536)

B="$CACHE/bench"
bench_build "$B" inproc_thr inproc_lat || exit $?

run() { # run WHO PROG SIZE COUNT -> prints the figure (msg/s or us), or "-" on failure
    local out
    out=$(env -u LD_LIBRARY_PATH timeout 120 "$B/$1/bin/$2" "$3" "$4" 2>&1) || { echo -; return; }
    case $2 in
    inproc_thr) sed -n 's/^mean throughput: \([0-9]*\) \[msg\/s\]/\1/p' <<<"$out" ;;
    inproc_lat) sed -n 's/^average latency: \([0-9.]*\) \[us\]/\1/p' <<<"$out" ;;
    esac
}

printf '%-8s | %12s %12s %7s | %10s %10s %7s\n' size "thr theirs" "thr ours" ratio "lat theirs" "lat ours" ratio
printf '%-8s | %12s %12s %7s | %10s %10s %7s\n' "" "[msg/s]" "[msg/s]" "o/t" "[us]" "[us]" "o/t"
printf -- '---------+-------------------------------------+-------------------------------\n'
for size in "${SIZES[@]}"; do
    # Calibrate on Debian's libzmq, then run both with the same counts.
    t0=$(run theirs inproc_thr "$size" 100000)
    [ "$t0" = - ] && t0=100000
    thr_count=$(clamp "$(awk -v t="$t0" -v s="$SECONDS_PER_RUN" 'BEGIN { print t * s }')" 10000 50000000)
    l0=$(run theirs inproc_lat "$size" 10000)
    [ "$l0" = - ] && l0=50
    lat_count=$(clamp "$(awk -v l="$l0" -v s="$SECONDS_PER_RUN" 'BEGIN { print s * 1e6 / (2 * l) }')" 1000 5000000)

    tt=() to=() lt=() lo=()
    for _ in $(seq "$REPEAT"); do
        tt+=("$(run theirs inproc_thr "$size" "$thr_count")")
        to+=("$(run ours inproc_thr "$size" "$thr_count")")
        lt+=("$(run theirs inproc_lat "$size" "$lat_count")")
        lo+=("$(run ours inproc_lat "$size" "$lat_count")")
    done
    thr_t=$(median "${tt[@]}") thr_o=$(median "${to[@]}")
    lat_t=$(median "${lt[@]}") lat_o=$(median "${lo[@]}")
    label=$(size_label "$size")
    printf '%-8s | %12s %12s %7s | %10s %10s %7s\n' "$label" "$thr_t" "$thr_o" "$(ratio "$thr_o" "$thr_t")" \
        "$lat_t" "$lat_o" "$(ratio "$lat_o" "$lat_t")"
done
echo "(median of $REPEAT runs each, counts calibrated to about ${SECONDS_PER_RUN} s per run on Debian's libzmq; '-' = a run failed)"
