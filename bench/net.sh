#!/usr/bin/env bash
# tcp and ipc throughput and latency: libzmq's perf/local_thr.cpp + perf/remote_thr.cpp and
# perf/local_lat.cpp + perf/remote_lat.cpp (from the cached Debian source package, see
# capi-tests/reference.sh) built twice, against Debian's libzmq and against ours. Each pair runs
# as two processes using the same library (theirs-theirs, ours-ours), at 1 B, 64 B, 1 KiB, 64 KiB.
#
# usage: bench/net.sh [--pinned] [--seconds S] [--repeat N] [--lat-repeat L]
#                     [--transport tcp|ipc] [--timeout T] [size ...]
#   --pinned  each process is held to its own CPU (taskset: local -c 0, remote -c 1)
#   --omq     adds omq-libzmq's columns (see omq_build in bench/lib.sh; built once, minutes)
#   message counts are calibrated on Debian's libzmq so that each run takes about S seconds (1.5);
#   each throughput figure is the median of N runs (5), each latency figure the median of L runs
#   (2N: latency on a small VM varies most from run to run, with where the threads wake up), the
#   two libraries' runs interleaved; every process
#   is killed after T seconds (default max(30, 20*S)), the local one also 3+2*S seconds after the
#   remote one has exited. --transport may be given twice (default both).
# Prints a table: throughput in msg/s (reported by local_thr) and latency in us (half a round
# trip, reported by remote_lat) for both, and ratios ours/theirs (throughput: higher is better;
# latency: lower is better); '-' marks a run that failed or timed out. Not part of test.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
SECONDS_PER_RUN=1.5
REPEAT=5
LAT_REPEAT=
TIMEOUT=
PINNED=0
OMQ=0
SIZES=()
TRANSPORTS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --lat-repeat) LAT_REPEAT=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --transport)
        case "$2" in
        tcp | ipc) TRANSPORTS+=("$2") ;;
        *) echo "bench: --transport tcp|ipc" >&2; exit 2 ;;
        esac
        shift ;;
    --pinned) PINNED=1 ;;
    --omq) OMQ=1 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) SIZES+=("$1") ;;
    esac
    shift
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1 64 1024 65536)
[ ${#TRANSPORTS[@]} -gt 0 ] || TRANSPORTS=(tcp ipc)
[ -n "$LAT_REPEAT" ] || LAT_REPEAT=$((2 * REPEAT))
GRACE=$(awk -v s="$SECONDS_PER_RUN" 'BEGIN { print int(3 + 2 * s) }')
[ -n "$TIMEOUT" ] || TIMEOUT=$(awk -v s="$SECONDS_PER_RUN" 'BEGIN { t = int(20 * s); print (t < 30 ? 30 : t) }')

zmqrs_need util-linux || exit 2
B="$CACHE/bench-net"
bench_build "$B" local_thr remote_thr local_lat remote_lat || exit $?
[ $OMQ = 1 ] && { omq_build || exit $?; }

RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/zmqrs-bench-net.XXXXXX") || exit 2
trap 'rm -rf "$RUNDIR"' EXIT
seq_no=0
PORT_BASE=$((20000 + RANDOM % 30000))
free_port() { # a tcp port nobody is bound to on 127.0.0.1
    local p
    p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null) &&
        [ -n "$p" ] && { echo "$p"; return; }
    echo $((PORT_BASE + seq_no))
}
listening() { # listening TRANSPORT ADDR: is the bound side ready for a connect?
    case $1 in
    tcp) [ -n "$(ss -Hltn "sport = :$2" 2>/dev/null)" ] ;;
    ipc) [ -S "$2" ] ;;
    esac
}

run() { # run WHO thr|lat TRANSPORT SIZE COUNT -> prints the figure (msg/s or us), or "-" on failure
    local who=$1 kind=$2 tr=$3 size=$4 count=$5 bin="$B/$(who_bin "$1")/bin" ep addr lpid lrc rrc i
    seq_no=$((seq_no + 1))
    case $tr in
    tcp) addr=$(free_port); ep="tcp://127.0.0.1:$addr" ;;
    ipc) addr="$RUNDIR/$seq_no.ipc"; ep="ipc://$addr" ;;
    esac
    local lout="$RUNDIR/$seq_no.local" rout="$RUNDIR/$seq_no.remote"
    pin 0 env $(who_env "$who") timeout -k 2 "$TIMEOUT" "$bin/local_$kind" "$ep" "$size" "$count" >"$lout" 2>&1 &
    lpid=$!
    # remote_lat's stopwatch includes the connect, so start the remote side only once the local
    # side listens (up to 5 s; a process that has died is not waited for).
    for i in $(seq 100); do
        listening "$tr" "$addr" && break
        kill -0 "$lpid" 2>/dev/null || break
        sleep 0.05
    done
    pin 1 env $(who_env "$who") timeout -k 2 "$TIMEOUT" "$bin/remote_$kind" "$ep" "$size" "$count" >"$rout" 2>&1
    rrc=$?
    # The local side has little left to do once the remote one is gone (a few buffered messages,
    # or nothing at all); don't wait the full timeout for one that lost messages and hangs.
    for i in $(seq $((GRACE * 20))); do
        kill -0 "$lpid" 2>/dev/null || break
        sleep 0.05
    done
    kill "$lpid" 2>/dev/null
    wait "$lpid"
    lrc=$?
    [ "$tr" = ipc ] && rm -f "$addr"
    if [ $lrc -ne 0 ] || [ $rrc -ne 0 ]; then
        echo -
        return
    fi
    local v
    case $kind in
    thr) v=$(sed -n 's/^mean throughput: \([0-9]*\) \[msg\/s\]/\1/p' "$lout") ;;
    lat) v=$(sed -n 's/^average latency: \([0-9.]*\) \[us\]/\1/p' "$rout") ;;
    esac
    echo "${v:--}"
}

echo "tcp/ipc throughput and latency ($([ $PINNED = 1 ] && echo "pinned: each process on its own CPU" || echo unpinned))"
printf '%-9s %-8s | %12s %12s %7s | %10s %10s %7s%s\n' transport size "thr theirs" "thr ours" ratio "lat theirs" "lat ours" ratio \
    "$(omq_cols "thr omq" ratio "lat omq" ratio)"
printf '%-9s %-8s | %12s %12s %7s | %10s %10s %7s%s\n' "" "" "[msg/s]" "[msg/s]" "o/t" "[us]" "[us]" "o/t" \
    "$(omq_cols "[msg/s]" q/t "[us]" q/t)"
printf -- '-------------------+-------------------------------------+-------------------------------\n'
for tr in "${TRANSPORTS[@]}"; do
    for size in "${SIZES[@]}"; do
        # Calibrate on Debian's libzmq with a short run, then run both with the same counts.
        if [ "$size" -ge 16384 ]; then c0=5000; elif [ "$size" -ge 1024 ]; then c0=50000; else c0=200000; fi
        t0=$(run theirs thr "$tr" "$size" "$c0")
        [ "$t0" = - ] && t0=$(run ours thr "$tr" "$size" "$c0") # theirs failed: calibrate on ours
        [ "$t0" = - ] && t0=$c0
        thr_count=$(clamp "$(awk -v t="$t0" -v s="$SECONDS_PER_RUN" 'BEGIN { print t * s }')" 1000 100000000)
        l0=$(run theirs lat "$tr" "$size" 2000)
        [ "$l0" = - ] && l0=$(run ours lat "$tr" "$size" 2000)
        [ "$l0" = - ] && l0=50
        lat_count=$(clamp "$(awk -v l="$l0" -v s="$SECONDS_PER_RUN" 'BEGIN { print s * 1e6 / (2 * l) }')" 200 5000000)

        tt=() to=() lt=() lo=() tq=() lq=()
        for i in $(seq "$((REPEAT > LAT_REPEAT ? REPEAT : LAT_REPEAT))"); do
            if [ "$i" -le "$REPEAT" ]; then
                tt+=("$(run theirs thr "$tr" "$size" "$thr_count")")
                to+=("$(run ours thr "$tr" "$size" "$thr_count")")
                [ $OMQ = 1 ] && tq+=("$(run omq thr "$tr" "$size" "$thr_count")")
            fi
            if [ "$i" -le "$LAT_REPEAT" ]; then
                lt+=("$(run theirs lat "$tr" "$size" "$lat_count")")
                lo+=("$(run ours lat "$tr" "$size" "$lat_count")")
                [ $OMQ = 1 ] && lq+=("$(run omq lat "$tr" "$size" "$lat_count")")
            fi
        done
        thr_t=$(median "${tt[@]}") thr_o=$(median "${to[@]}")
        lat_t=$(median "${lt[@]}") lat_o=$(median "${lo[@]}")
        label=$(size_label "$size")
        if [ $OMQ = 1 ]; then
            thr_q=$(median "${tq[@]}") lat_q=$(median "${lq[@]}")
            extra=$(omq_cols "$thr_q" "$(ratio "$thr_q" "$thr_t")" "$lat_q" "$(ratio "$lat_q" "$lat_t")")
        else
            extra=
        fi
        printf '%-9s %-8s | %12s %12s %7s | %10s %10s %7s%s\n' "$tr" "$label" "$thr_t" "$thr_o" "$(ratio "$thr_o" "$thr_t")" \
            "$lat_t" "$lat_o" "$(ratio "$lat_o" "$lat_t")" "$extra"
    done
done
echo "(throughput: median of $REPEAT runs, latency: median of $LAT_REPEAT runs, two processes on the same library, counts calibrated to about ${SECONDS_PER_RUN} s per run on Debian's libzmq; '-' = a run failed or timed out after ${TIMEOUT} s)"
