#!/usr/bin/env bash
# Runs every test from a fresh clone: restore, Azurite (in memory, free ports), build once, test every project.
# Exits non-zero on any failure and ends with a plain "N passed, N failed" line for CI. See docs/local-development.md.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"
RESULTS="$ROOT/TestResults"

command -v dotnet >/dev/null || { echo "The .NET SDK is required (see global.json)." >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js is required (it runs Azurite)." >&2; exit 1; }

echo "== Restoring .NET packages"
dotnet restore LeadFunctions.sln --nologo

if [ ! -x node_modules/.bin/azurite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== Installing Azurite (npm ci)"
  npm ci --no-audit --no-fund
fi

# A real-browser test drives Debian's Chromium (never a downloaded browser); install it only when such a test exists.
if grep -rqs "LEADFUNCTIONS_CHROMIUM" tests --include=*.cs; then
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== Installing Chromium (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  if [ -x /usr/bin/chromium ]; then export LEADFUNCTIONS_CHROMIUM=/usr/bin/chromium; fi
fi

azurite_pid=""
cleanup() {
  if [ -n "$azurite_pid" ]; then
    kill "$azurite_pid" 2>/dev/null || true
    wait "$azurite_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();});"
}
wait_for_port() {
  local port=$1 tries=150
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || { echo "Azurite did not start listening on port $port." >&2; return 1; }
    sleep 0.2
  done
}

BLOB_PORT=$(free_port); QUEUE_PORT=$(free_port); TABLE_PORT=$(free_port)
echo "== Starting Azurite in memory (blob $BLOB_PORT, queue $QUEUE_PORT, table $TABLE_PORT)"
node_modules/.bin/azurite --silent --inMemoryPersistence --disableTelemetry --skipApiVersionCheck \
  --blobHost 127.0.0.1 --blobPort "$BLOB_PORT" \
  --queueHost 127.0.0.1 --queuePort "$QUEUE_PORT" \
  --tableHost 127.0.0.1 --tablePort "$TABLE_PORT" &
azurite_pid=$!
wait_for_port "$BLOB_PORT" && wait_for_port "$QUEUE_PORT" && wait_for_port "$TABLE_PORT"

ACCOUNT=devstoreaccount1
KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export LEADFUNCTIONS_TEST_STORAGE="DefaultEndpointsProtocol=http;AccountName=$ACCOUNT;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$BLOB_PORT/$ACCOUNT;QueueEndpoint=http://127.0.0.1:$QUEUE_PORT/$ACCOUNT;TableEndpoint=http://127.0.0.1:$TABLE_PORT/$ACCOUNT;"

echo "== Building the solution"
dotnet build LeadFunctions.sln --no-restore --nologo -v minimal

echo "== Running the tests"
rm -rf "$RESULTS"
status=0
dotnet test LeadFunctions.sln --no-build --nologo --logger "trx" --results-directory "$RESULTS" || status=$?

passed=0; failed=0
shopt -s nullglob
for trx in "$RESULTS"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test failed (exit $status) before reporting any failed test; see the output above." >&2
fi
echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
