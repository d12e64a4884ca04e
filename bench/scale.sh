#!/usr/bin/env bash
# How time and memory grow with N, ours against Debian's libzmq: bench/scale_bench.c built
# against each, run over tcp on loopback (127.0.0.1, ports from ZMQ_LAST_ENDPOINT).
#   fanout   one PUB to 1, 10, 100, 500 SUBs (subscribed to "", at most 100 per process), 64 B
#            back to back once every SUB has had a warm-up message: delivered msg/s (all SUBs)
#            and sent msg/s over a window, the PUB process's CPU time (user + sys) per message
#            sent, the share of sent * N delivered (the rest dropped at the default HWM)
#   subs     one SUB with 10, 1000, 100000 prefixes "p%08d" on a PUB: time until the PUB has
#            them all, the PUB process's VmRSS growth per subscription, the PUB's send rate of
#            messages matching a random prefix and missing one (a prefix's last digit replaced),
#            time until the PUB has all the unsubscriptions
#   conns    10000 DEALERs (10 processes) to one ROUTER: time until every DEALER has the reply
#            to its first request, the ROUTER process's VmRSS growth per idle connection,
#            requests/s with each DEALER keeping one request outstanding; then 1000 busy DEALERs
#            (2 processes) with ZMQ_IO_THREADS 1, 2, 4 on every context: requests/s
#   sockets  100 batches on one context: create 1000 sockets (12 types), close them: us per
#            socket in the first and last batch, VmRSS after batches 1, 10, 50, 100
# usage: bench/scale.sh [--quick] [--omq] [--repeat N] [--seconds S] [fanout] [subs] [conns]
#                       [sockets]
#   --omq      adds omq-libzmq's columns (see omq_build in bench/lib.sh; built once, minutes)
#   --quick    smaller N, a smoke test (fanout 1 10 50, subs 10 1000 10000, conns 1000 and 200,
#              sockets 10 batches), S = 1
#   each figure is the median of N runs (1: the big runs are long), theirs and ours
#   interleaved; each rate is measured over S seconds (2). Every process is killed after a
#   timeout. Raises ulimit -n as far as the hard limit allows (lowering conns' N if that is
#   not enough). Scenarios run in the order given (default all). Not part of test.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
REPEAT=1
QUICK=0
OMQ=0
SECS=
SCENARIOS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1 ;;
    --omq) OMQ=1 ;;
    --repeat) REPEAT=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    fanout | subs | conns | sockets) SCENARIOS+=("$1") ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1 (see -h)" >&2; exit 2 ;;
    esac
    shift
done
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(fanout subs conns sockets)
if [ $QUICK = 1 ]; then
    : "${SECS:=1}"
    FANOUT_N=(1 10 50)
    SUBS_N=(10 1000 10000)
    CONNS_N=1000 CONNS_PROCS=2
    IO_N=200 IO_PROCS=2
    BATCHES=10 BATCH=1000 CHECKPOINTS=(1 5 10)
else
    : "${SECS:=2}"
    FANOUT_N=(1 10 100 500)
    SUBS_N=(10 1000 100000)
    CONNS_N=10000 CONNS_PROCS=10
    IO_N=1000 IO_PROCS=2
    BATCHES=100 BATCH=1000 CHECKPOINTS=(1 10 50 100)
fi
IO_THREADS=(1 2 4)

B="$CACHE/bench-scale"
bench_build_c "$B" scale_bench || exit $?
[ $OMQ = 1 ] && { omq_build || exit $?; }

# File descriptors: the ROUTER holds one per connection, a DEALER process two per socket (the
# connection and the socket's mailbox), the sockets scenario one per open socket.
want=65536
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=$want
[ "$hard" -lt "$want" ] && want=$hard
ulimit -n "$want" 2>/dev/null
NOFILE=$(ulimit -n)
per_proc=$(((CONNS_N + CONNS_PROCS - 1) / CONNS_PROCS))
if [ $((CONNS_N + 1024)) -gt "$NOFILE" ] || [ $((2 * per_proc + 1024)) -gt "$NOFILE" ]; then
    n=$((NOFILE - 1024))
    [ $(((NOFILE - 1024) / 2 * CONNS_PROCS)) -lt "$n" ] && n=$(((NOFILE - 1024) / 2 * CONNS_PROCS))
    n=$((n / 1000 * 1000))
    echo "bench: ulimit -n is $NOFILE (hard limit $hard): conns lowered from $CONNS_N to $n connections" >&2
    CONNS_N=$n
fi
read -r port_lo port_hi </proc/sys/net/ipv4/ip_local_port_range
ports=$((port_hi - port_lo + 1))
if [ $((CONNS_N + 2000)) -gt "$ports" ]; then
    n=$(((ports - 2000) / 1000 * 1000))
    echo "bench: ip_local_port_range $port_lo-$port_hi has $ports ports: conns lowered from $CONNS_N to $n connections" >&2
    CONNS_N=$n
fi
if [ "$CONNS_N" -lt 1000 ]; then
    echo "bench: too few file descriptors or ports for the conns scenario" >&2
    exit 2
fi

RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/zmqrs-bench-scale.XXXXXX") || exit 2
CHILD=
cleanup() {
    if [ -n "$CHILD" ]; then
        kill "$CHILD" 2>/dev/null # timeout passes it on to scale_bench and its children
        wait "$CHILD" 2>/dev/null
    fi
    rm -rf "$RUNDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run WHO TIMEOUT ARGS...: sets RESULT to scale_bench's stdout ("" if it printed nothing); a
# failure (exit status, anything on stderr) is told on stderr, with the last lines it wrote.
RESULT=
run() {
    local who=$1 t=$2 rc
    shift 2
    env $(who_env "$who") timeout -k 5 "$t" "$B/$(who_bin "$who")/scale_bench" "$@" >"$RUNDIR/out" 2>"$RUNDIR/err" &
    CHILD=$!
    wait "$CHILD"
    rc=$?
    CHILD=
    if [ $rc -ne 0 ] || [ -s "$RUNDIR/err" ]; then
        {
            printf 'bench: %s scale_bench %s: exit status %s' "$who" "$*" "$rc"
            [ $rc = 124 ] && printf ' (killed after %s s)' "$t"
            echo
            tail -n 5 "$RUNDIR/err" | sed 's/^/    /'
        } >&2
    fi
    RESULT=$(cat "$RUNDIR/out")
}

# field I LINE...: the median of the I-th field (1-based) of the lines, "-" when one lacks it
field() {
    local i=$1 l v vals=()
    shift
    for l in "$@"; do
        v=$(awk -v i="$i" '{ if (NF >= i) print $i }' <<<"$l")
        vals+=("${v:--}")
    done
    median "${vals[@]}"
}

# repeat TIMEOUT ARGS...: REPEAT runs of each library, interleaved, into the arrays T, O (and
# Q, omq's, with --omq)
repeat() {
    local i
    T=() O=() Q=()
    for ((i = 0; i < REPEAT; i++)); do
        run theirs "$@"
        T+=("$RESULT")
        run ours "$@"
        O+=("$RESULT")
        if [ $OMQ = 1 ]; then
            run omq "$@"
            Q+=("$RESULT")
        fi
    done
}

header() {
    echo "$1"
    printf '%-32s %9s | %12s %12s %7s%s\n' "" N theirs ours o/t "$(omq_cols omq q/t "" "")"
    printf -- '------------------------------------------+---------------------------------\n'
}

row() { # row LABEL N FIELD: a figure from the runs in T and O (and Q)
    local t o q=
    t=$(field "$3" "${T[@]}") o=$(field "$3" "${O[@]}")
    [ $OMQ = 1 ] && q=$(field "$3" "${Q[@]}")
    printf '%-32s %9s | %12s %12s %7s%s\n' "$1" "$2" "$t" "$o" "$(ratio "$o" "$t")" \
        "$(omq_cols "$q" "$(ratio "$q" "$t")" "" "")"
}

# Rows are printed by metric; the runs of all N are kept per N in RUNS_T_<n>, RUNS_O_<n>.
keep() { # keep KEY: saves T, O and Q under KEY
    eval "RUNS_T_$1=(\"\${T[@]}\")"
    eval "RUNS_O_$1=(\"\${O[@]}\")"
    eval "RUNS_Q_$1=(\"\${Q[@]}\")"
}
load() { # load KEY
    eval "T=(\"\${RUNS_T_$1[@]}\")"
    eval "O=(\"\${RUNS_O_$1[@]}\")"
    eval "Q=(\"\${RUNS_Q_$1[@]}\")"
}

runs_note() {
    if [ "$REPEAT" = 1 ]; then echo "(one run each, --repeat N for medians"; else echo "(median of $REPEAT runs"; fi
}

scenario_fanout() {
    local n
    for n in "${FANOUT_N[@]}"; do
        repeat 180 fanout "$n" "$SECS"
        keep "$n"
    done
    header "fanout: one PUB over tcp to N SUBs (subscribed to \"\"), 64 B back to back, HWM default"
    for m in "1 delivered, all SUBs [msg/s]" "2 sent [msg/s]" "3 PUB CPU per sent [us]" \
        "4 delivered / (sent * N) [%]" "5 setup, all SUBs had one [ms]"; do
        for n in "${FANOUT_N[@]}"; do
            load "$n"
            row "${m#* }" "$n" "${m%% *}"
        done
    done
    echo "$(runs_note); rates over a ${SECS} s window after 0.5 s of sending; SUBs in"
    echo " processes of at most 100; setup: from handing out the endpoint until every SUB has had"
    echo " a warm-up message; o/t: lower is better for CPU and setup, higher for the rates)"
    echo
}

scenario_subs() {
    local n
    for n in "${SUBS_N[@]}"; do
        repeat 300 subs "$n" "$SECS"
        keep "$n"
    done
    header "subscriptions: one SUB over tcp with N prefixes \"p%08d\" on a PUB"
    for m in "1 subscribe all [ms]" "2 PUB RSS growth per sub [B]" \
        "3 send, matching prefix [msg/s]" "4 send, missing prefix [msg/s]" \
        "5 unsubscribe all [ms]" "6 SUB received, matching [msg]"; do
        for n in "${SUBS_N[@]}"; do
            load "$n"
            row "${m#* }" "$n" "${m%% *}"
        done
    done
    echo "$(runs_note); (un)subscribe all: from the first zmq_setsockopt"
    echo " until a message on the last prefix (a sentinel) arrives; send rates of 64 B over ${SECS} s"
    echo " each, the PUB dropping at its HWM; SUB received: a sanity check; the SUB's ZMQ_SNDHWM"
    echo " is 0, else libzmq drops subscriptions beyond 1000 in flight; o/t: lower is better for"
    echo " times and RSS, higher for the rates)"
    echo
}

scenario_conns() {
    local io
    repeat 300 conns "$CONNS_N" "$CONNS_PROCS" 1 "$SECS"
    keep main
    for io in "${IO_THREADS[@]}"; do
        repeat 180 conns "$IO_N" "$IO_PROCS" "$io" "$SECS"
        keep "io$io"
    done
    header "connections: N DEALERs over tcp to one ROUTER, one request outstanding each"
    load main
    row "connect all (first reply) [ms]" "$CONNS_N" 1
    row "ROUTER RSS per idle conn [B]" "$CONNS_N" 2
    row "requests/s" "$CONNS_N" 3
    for io in "${IO_THREADS[@]}"; do
        load "io$io"
        row "requests/s, $io I/O thread(s)" "$IO_N" 3
    done
    echo "$(runs_note); DEALERs in $CONNS_PROCS processes (I/O thread rows: $IO_PROCS);"
    echo " ZMQ_IO_THREADS 1 unless said, on every context; ZMQ_BACKLOG 4096 on the ROUTER;"
    echo " requests/s over ${SECS} s; o/t: lower is better for time and RSS, higher for requests/s)"
    echo
}

scenario_sockets() {
    local i line c last=${CHECKPOINTS[${#CHECKPOINTS[@]} - 1]}
    T=() O=() Q=()
    local libs=(theirs ours)
    [ $OMQ = 1 ] && libs+=(omq)
    for ((i = 0; i < REPEAT; i++)); do
        for who in "${libs[@]}"; do
            run "$who" 180 sockets "$BATCHES" "$BATCH"
            # one line per batch "batch us rss" -> "us_first us_last rss_at_checkpoints..."
            line=$(awk -v last="$last" -v cps="${CHECKPOINTS[*]}" '
                BEGIN { n = split(cps, cp, " ") }
                { us[$1] = $2; rss[$1] = $3 }
                END {
                    if (!(1 in us) || !(last in us)) exit
                    s = us[1] " " us[last]
                    for (k = 1; k <= n; k++) s = s " " (cp[k] in rss ? rss[cp[k]] : "-")
                    print s
                }' <<<"$RESULT")
            case $who in
            theirs) T+=("$line") ;;
            ours) O+=("$line") ;;
            omq) Q+=("$line") ;;
            esac
        done
    done
    header "sockets: create $BATCH sockets (12 types) on one context, close them, $BATCHES times"
    row "create+close [us/socket]" "batch 1" 1
    row "create+close [us/socket]" "batch $last" 2
    c=3
    for i in "${CHECKPOINTS[@]}"; do
        row "VmRSS [KiB]" "batch $i" $c
        c=$((c + 1))
    done
    echo "$(runs_note); a 20 ms pause after each batch, not timed, lets closed"
    echo " sockets be destroyed; ZMQ_MAX_SOCKETS $((4 * BATCH + 64)); o/t: lower is better)"
    echo
}

echo "scale: ours ($ZMQRS_LIB) against Debian's libzmq; ulimit -n $NOFILE, $(nproc) CPUs"
echo
for s in "${SCENARIOS[@]}"; do
    "scenario_$s"
done
