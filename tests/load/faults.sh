#!/usr/bin/env bash
# Faults the running local host must survive (issue 14.5), each against Azurite in memory with hosts as child processes:
#   crash    SIGKILL mid-batch and again mid-send, restart: every event applied once, every sales alert sent once
#            (takes ~11 minutes: messages a killed host held come back after the WebJobs listener's 10-minute lease)
#   overlap  two hosts, same lead storage, separate WebJobs storage, timers at the same seconds: no alert sent twice
# Usage: tests/load/faults.sh [crash|overlap]... (default: both). FAULTS_LEADS (60) demo requests per scenario.
# See docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/load/common.sh
make_scratch faults
build_release "fault driver"
scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(crash overlap)
status=0
for scenario in "${scenarios[@]}"; do
  start_storage
  pids+=("$AZURITE_PID")
  storage="$STORAGE"
  start_azurite_in_memory "$SCRATCH/azurite-webjobs2.log"
  pids+=("$AZURITE_PID")
  announce_measuring
  echo "== Scenario: $scenario"
  FAULTS_LOCALHOST="$BIN/localhost/LeadFunctions.LocalHost.dll" FAULTS_STORAGE="$storage" \
    FAULTS_WEBJOBS_STORAGE2="$AZURITE_STORAGE" FAULTS_SCRATCH="$SCRATCH" \
    dotnet "$BIN/bench/LeadFunctions.Benchmarks.dll" faults "$scenario" || status=1
done
unset AZURITE_PID
exit $status
