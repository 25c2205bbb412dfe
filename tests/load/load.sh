#!/usr/bin/env bash
# A bounded load run on this machine: Azurite in memory and the local host (Release) on free 127.0.0.1 ports, an isolated
# outbox, then `LeadFunctions.Benchmarks load` measures the landing page, form posts and queue processing. See docs/performance.md.
# Counts (env): LOAD_REQUESTS (2000), LOAD_CONCURRENCY (16), LOAD_EVENTS (2000), LOAD_PHASE_SECONDS (30, the cap of each phase).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"

source scripts/dev-services.sh
require_tools
ensure_azurite_installed

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/leadfunctions-load.XXXXXX")"
BIN="$ROOT/tests/load/bin"
pids=()
cleanup() {
  trap - EXIT INT TERM
  # The app first, Azurite last: the app shuts down gracefully only while storage still answers it.
  for pid in "${pids[@]}" ${AZURITE_PID:-}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== Building the local host and the load tool (Release)"
dotnet build functions/LeadFunctions.LocalHost --nologo -v quiet -c Release -o "$BIN/localhost" >/dev/null
dotnet build tests/LeadFunctions.Benchmarks --nologo -v quiet -c Release -o "$BIN/bench" >/dev/null

APP_PORT=$(free_port)
start_azurite_in_memory "$SCRATCH/azurite.log"
STORAGE="$AZURITE_STORAGE"
LEADS_TABLE="LoadLeads$(date +%s)"

echo "== Starting the local host on http://127.0.0.1:$APP_PORT/ (log: $SCRATCH/app.log)"
# Logs (host.json levels, as in Azure) go to a file; the nurture timer is off (once a year) so it does not compete,
# and the per-client rate limits are off: every request comes from 127.0.0.1, and this measures throughput.
(
  cd "$BIN/localhost"
  PORT="$APP_PORT" LeadStorage="$STORAGE" AzureWebJobsStorage="$STORAGE" Storage__LeadsTable="$LEADS_TABLE" \
  Email__Sender=Folder Email__Folder__Path="$SCRATCH/outbox" LocalHost__TimerStatusFolder="$SCRATCH/timers" \
  NurtureSchedule="0 0 0 1 1 *" RateLimit__Enabled=false \
  exec dotnet LeadFunctions.LocalHost.dll >"$SCRATCH/app.log" 2>&1
) &
pids+=($!)
wait_for_port "$APP_PORT"

echo "== Measuring ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
LOAD_URL="http://127.0.0.1:$APP_PORT" LOAD_STORAGE="$STORAGE" LOAD_LEADS_TABLE="$LEADS_TABLE" \
  dotnet "$BIN/bench/LeadFunctions.Benchmarks.dll" load
