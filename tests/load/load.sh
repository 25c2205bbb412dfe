#!/usr/bin/env bash
# A bounded load run on this machine: Azurite in memory and the local host (Release) on free 127.0.0.1 ports, an isolated
# outbox, then `LeadFunctions.Benchmarks load` measures the landing page, form posts and queue processing. See docs/performance.md.
# Counts (env): LOAD_REQUESTS (2000), LOAD_CONCURRENCY (16), LOAD_EVENTS (2000), LOAD_PHASE_SECONDS (30, the cap of each phase).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"

command -v dotnet >/dev/null || { echo "The .NET SDK is required (see global.json)." >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js is required (it runs Azurite)." >&2; exit 1; }
if [ ! -x node_modules/.bin/azurite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/leadfunctions-load.XXXXXX")"
BIN="$ROOT/tests/load/bin"
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();});"
}
wait_for_port() {
  local port=$1 tries=300
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || { echo "Nothing is listening on 127.0.0.1:$port." >&2; return 1; }
    sleep 0.2
  done
}

echo "== Building the local host and the load tool (Release)"
dotnet build functions/LeadFunctions.LocalHost --nologo -v quiet -c Release -o "$BIN/localhost" >/dev/null
dotnet build tests/LeadFunctions.Benchmarks --nologo -v quiet -c Release -o "$BIN/bench" >/dev/null

BLOB_PORT=$(free_port); QUEUE_PORT=$(free_port); TABLE_PORT=$(free_port); APP_PORT=$(free_port)
echo "== Starting Azurite in memory (blob $BLOB_PORT, queue $QUEUE_PORT, table $TABLE_PORT)"
node_modules/.bin/azurite --silent --inMemoryPersistence --disableTelemetry --skipApiVersionCheck \
  --blobHost 127.0.0.1 --blobPort "$BLOB_PORT" --queueHost 127.0.0.1 --queuePort "$QUEUE_PORT" \
  --tableHost 127.0.0.1 --tablePort "$TABLE_PORT" >"$SCRATCH/azurite.log" 2>&1 &
pids+=($!)
wait_for_port "$BLOB_PORT" && wait_for_port "$QUEUE_PORT" && wait_for_port "$TABLE_PORT"

ACCOUNT=devstoreaccount1
KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
STORAGE="DefaultEndpointsProtocol=http;AccountName=$ACCOUNT;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$BLOB_PORT/$ACCOUNT;QueueEndpoint=http://127.0.0.1:$QUEUE_PORT/$ACCOUNT;TableEndpoint=http://127.0.0.1:$TABLE_PORT/$ACCOUNT;"
LEADS_TABLE="LoadLeads$(date +%s)"

echo "== Starting the local host on http://127.0.0.1:$APP_PORT/ (log: $SCRATCH/app.log)"
# Logs (host.json levels, as in Azure) go to a file; the nurture timer is off (once a year) so it does not compete.
(
  cd "$BIN/localhost"
  PORT="$APP_PORT" LeadStorage="$STORAGE" AzureWebJobsStorage="$STORAGE" Storage__LeadsTable="$LEADS_TABLE" \
  Email__Sender=Folder Email__Folder__Path="$SCRATCH/outbox" LocalHost__TimerStatusFolder="$SCRATCH/timers" \
  NurtureSchedule="0 0 0 1 1 *" \
  exec dotnet LeadFunctions.LocalHost.dll >"$SCRATCH/app.log" 2>&1
) &
pids+=($!)
wait_for_port "$APP_PORT"

echo "== Measuring ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
LOAD_URL="http://127.0.0.1:$APP_PORT" LOAD_STORAGE="$STORAGE" LOAD_LEADS_TABLE="$LEADS_TABLE" \
  dotnet "$BIN/bench/LeadFunctions.Benchmarks.dll" load
