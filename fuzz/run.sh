#!/usr/bin/env bash
# Runs every fuzz harness (or the ones named) for SECONDS each (default 20), from the checked-in
# seeds in fuzz/corpus/<target>/; what a run finds new goes to a scratch corpus under
# $FUZZ_WORK (default /tmp/zmq-rs-fuzz), never into the repo. A crash, a panic or a hang (a
# single input running over 10 s) fails the run and leaves the input in fuzz/artifacts/<target>/:
# replay it with `cargo +$ZMQRS_NIGHTLY fuzz run TARGET fuzz/artifacts/TARGET/crash-...` (the
# toolchain capi-tests/lib.sh pins), and add it as
# a regression test beside the code it broke.
#   fuzz/run.sh                 every harness, 20 s each (the step of test.sh)
#   fuzz/run.sh 3600 engine     one hour of the engine harness
# Installs what it needs: the pinned nightly toolchain (libFuzzer needs -Z flags) and cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:-20}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(greeting frame_decoder command metadata null plain curve z85 address engine)
fi
WORK=${FUZZ_WORK:-/tmp/zmq-rs-fuzz}

export PATH="$HOME/.cargo/bin:$PATH"
. ../capi-tests/lib.sh
zmqrs_nightly
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2 --locked

cargo "+$ZMQRS_NIGHTLY" fuzz build
status=0
for t in "${TARGETS[@]}"; do
    mkdir -p "$WORK/$t"
    log="$WORK/$t.log"
    if cargo "+$ZMQRS_NIGHTLY" fuzz run "$t" "$WORK/$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
        echo "fuzz: $t: ${runs:-?} inputs in ${SECONDS_EACH} s, $cov, no crash"
    else
        status=1
        echo "fuzz: $t FAILED; the end of its log ($log):"
        grep -v '^ *#[0-9]* 0x' "$log" | tail -30 || true
    fi
done
exit $status
