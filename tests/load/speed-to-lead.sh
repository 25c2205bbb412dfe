#!/usr/bin/env bash
# Speed to lead on this machine: Azurite in memory and the local host (Release) on free 127.0.0.1 ports with the deployed
# timer schedule (every minute), then `LeadFunctions.Benchmarks speed-to-lead` posts demo requests spread over a window and
# times each until its sales alert is in the folder outbox. See docs/performance.md.
# Env: SPEED_REQUESTS (30, at most 50), SPEED_SPREAD_SECONDS (120), SPEED_TIMEOUT_SECONDS (300), NURTURE_SCHEDULE ('0 */1 * * * *').
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"

source scripts/dev-services.sh
require_tools
ensure_azurite_installed

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/leadfunctions-speed.XXXXXX")"
BIN="$ROOT/tests/load/bin"
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}" ${AZURITE_PID:-}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== Building the local host and the measuring tool (Release)"
dotnet build functions/LeadFunctions.LocalHost --nologo -v quiet -c Release -o "$BIN/localhost" >/dev/null
dotnet build tests/LeadFunctions.Benchmarks --nologo -v quiet -c Release -o "$BIN/bench" >/dev/null

APP_PORT=$(free_port)
start_azurite_in_memory "$SCRATCH/azurite.log"
STORAGE="$AZURITE_STORAGE"

echo "== Starting the local host on http://127.0.0.1:$APP_PORT/ (timer '${NURTURE_SCHEDULE:-0 */1 * * * *}', log: $SCRATCH/app.log)"
(
  cd "$BIN/localhost"
  PORT="$APP_PORT" LeadStorage="$STORAGE" AzureWebJobsStorage="$STORAGE" \
  Email__Sender=Folder Email__Folder__Path="$SCRATCH/outbox" LocalHost__TimerStatusFolder="$SCRATCH/timers" \
  Tracking__BaseUrl="http://127.0.0.1:$APP_PORT" NurtureSchedule="${NURTURE_SCHEDULE:-0 */1 * * * *}" \
  exec dotnet LeadFunctions.LocalHost.dll >"$SCRATCH/app.log" 2>&1
) &
pids+=($!)
wait_for_port "$APP_PORT"

echo "== Measuring ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
SPEED_URL="http://127.0.0.1:$APP_PORT" SPEED_OUTBOX="$SCRATCH/outbox" \
  dotnet "$BIN/bench/LeadFunctions.Benchmarks.dll" speed-to-lead
