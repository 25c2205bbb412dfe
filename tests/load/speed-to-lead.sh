#!/usr/bin/env bash
# Speed to lead on this machine: Azurite in memory and the local host (Release) on free 127.0.0.1 ports with the deployed
# timer schedule (every minute), then `LeadFunctions.Benchmarks speed-to-lead` posts demo requests spread over a window and
# times each until its sales alert is in the folder outbox. See docs/performance.md.
# Env: SPEED_REQUESTS (30, at most 50), SPEED_SPREAD_SECONDS (120), SPEED_TIMEOUT_SECONDS (300), NURTURE_SCHEDULE ('0 */1 * * * *').
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/load/common.sh
make_scratch speed
build_release "measuring tool"
start_storage
SCHEDULE="${NURTURE_SCHEDULE:-0 */1 * * * *}"
start_local_host "timer '$SCHEDULE', " Tracking__BaseUrl="http://127.0.0.1:$APP_PORT" NurtureSchedule="$SCHEDULE"

announce_measuring
SPEED_URL="http://127.0.0.1:$APP_PORT" SPEED_OUTBOX="$SCRATCH/outbox" \
  dotnet "$BIN/bench/LeadFunctions.Benchmarks.dll" speed-to-lead
