#!/usr/bin/env bash
# The timer-cost benchmark (tests/LeadFunctions.Benchmarks/Nurture/NurtureTimerCostBenchmarks.cs) against its own Azurite in
# memory on free 127.0.0.1 ports: one nurture timer run with 1,000 MQLs due among 1,000 leads, then among 100,000, in one
# process and one Azurite, so both sizes are measured under the same conditions, each next to a raw-SDK loop doing the same
# storage requests per due item on the same tables (RawSdkBaseline, the Ratio column). Then, in the same Azurite, point reads and
# replaces of a row whose row key N rows share against a row key of its own (azurite-rowkey). See docs/performance.md.
# Usage: tests/load/timer-cost.sh. Env: NURTURE_BENCH_LEADS (sizes, default 1000,100000), NURTURE_BENCH_WARMUPS (1),
# NURTURE_BENCH_ITERATIONS (1), NURTURE_BENCH_DUE (1000; smaller only to check the benchmark works), MEASURE_LOCK (a file to
# flock(1) while the runs are timed, after the seeding, when other measurements share the machine), ROWKEY_BENCH_SHARED
# (1000,11000; "none" skips the row-key run), TIMER_COST_BDN=1 (time through BenchmarkDotNet, whose in-process toolchain stops
# a benchmark after five minutes, instead of timer-cost-time's own loop: warm-ups, then raw and timer alternating per round).
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/load/common.sh
make_scratch timer-cost
echo "== Building the benchmarks (Release)"
dotnet build tests/LeadFunctions.Benchmarks --nologo -v quiet -c Release -o "$BIN/bench" >/dev/null
start_storage

export LEADFUNCTIONS_TEST_STORAGE="$STORAGE" NURTURE_BENCH_WARMUPS="${NURTURE_BENCH_WARMUPS:-1}" \
  NURTURE_BENCH_ITERATIONS="${NURTURE_BENCH_ITERATIONS:-1}"
echo "== Seeding every size (not timed)"
dotnet "$BIN/bench/LeadFunctions.Benchmarks.dll" timer-cost-seed | grep --line-buffered '^// SEED'
lock=()
[[ -n "${MEASURE_LOCK:-}" ]] && lock=(flock "$MEASURE_LOCK")
echo "== Timing${MEASURE_LOCK:+ (waiting for $MEASURE_LOCK)}"
"${lock[@]}" bash -c 'echo "== Measuring ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)) $(uptime)"
  if [[ "${TIMER_COST_BDN:-}" == 1 ]]; then
    dotnet "$1/bench/LeadFunctions.Benchmarks.dll" --filter "*NurtureTimerCost*" --artifacts "$2/artifacts"
  else
    dotnet "$1/bench/LeadFunctions.Benchmarks.dll" timer-cost-time | grep --line-buffered -E "^// (TIMED|RATIO|WARM-UP|STORAGE|Raw|One)"
  fi
  uptime
  if [[ "${ROWKEY_BENCH_SHARED:-}" != none ]]; then
    echo "== Azurite alone: rows sharing a row key ($(uptime))"
    dotnet "$1/bench/LeadFunctions.Benchmarks.dll" azurite-rowkey | grep --line-buffered "^// ROWKEY"
    uptime
  fi' timing "$BIN" "$SCRATCH"
