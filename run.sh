#!/usr/bin/env bash
# Runs LeadFunctions locally: Azurite (storage emulator) plus the local host on http://127.0.0.1:7071 (PORT overrides).
# Ctrl-C, or any exit, stops both. See docs/local-development.md.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"
PORT="${PORT:-7071}"

source scripts/dev-services.sh
require_tools
ensure_azurite_installed

pids=()
# Stop in the reverse order of starting: the app shuts down gracefully only while Azurite still answers it.
cleanup() {
  trap - EXIT INT TERM
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in 10000 10001 10002 "$PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "Port $port is already in use (another Azurite or app?). Stop it, or set PORT for the app." >&2
    exit 1
  fi
done

mkdir -p .azurite .outbox
echo "Starting Azurite (data in .azurite/, log in .azurite/azurite.log)..."
# Its own session: Ctrl-C reaches only this script and the app, and cleanup stops Azurite after the app.
setsid node_modules/.bin/azurite --location .azurite --disableTelemetry --skipApiVersionCheck \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >.azurite/azurite.log 2>&1 &
pids+=($!)
wait_for_port 10000 && wait_for_port 10001 && wait_for_port 10002 || exit 1

echo "Building the local host..."
dotnet build functions/LeadFunctions.LocalHost --nologo -v quiet -c Debug -o functions/LeadFunctions.LocalHost/bin/run >/dev/null

# Azurite's well-known development account; UseDevelopmentStorage=true means the same endpoints.
export LeadStorage="${LeadStorage:-UseDevelopmentStorage=true}"
export AzureWebJobsStorage="${AzureWebJobsStorage:-UseDevelopmentStorage=true}"
export Email__Folder__Path="${Email__Folder__Path:-$ROOT/.outbox}"
export LocalHost__TimerStatusFolder="${LocalHost__TimerStatusFolder:-$ROOT/.azurite/timer-status}"
# Links in e-mails (open pixel, clicks, unsubscribe, accept/reject) must point at the port the app really listens on.
export Tracking__BaseUrl="${Tracking__BaseUrl:-http://127.0.0.1:$PORT}"
# The local host plays App Service Authentication: every request is signed in as this user (docs/workspace.md#local-development).
# Narrow the roles to try the workspace as sales or marketing, e.g. LocalHost__DevelopmentUser__Roles=marketing ./run.sh
export LocalHost__DevelopmentUser__Id="${LocalHost__DevelopmentUser__Id:-00000000-0000-0000-0000-000000000001}"
export LocalHost__DevelopmentUser__Name="${LocalHost__DevelopmentUser__Name:-Local Developer}"
export LocalHost__DevelopmentUser__Roles="${LocalHost__DevelopmentUser__Roles-sales,marketing,admin}"
export PORT

echo "Starting the app on http://127.0.0.1:$PORT/ (outbox: $Email__Folder__Path)"
dotnet functions/LeadFunctions.LocalHost/bin/run/LeadFunctions.LocalHost.dll &
pids+=($!)
wait_for_port "$PORT"
echo
echo "  Landing page:  http://127.0.0.1:$PORT/"
echo "  Dashboard:     http://127.0.0.1:$PORT/api/workspace"
echo "  API:           http://127.0.0.1:$PORT/api/..."
echo "  Signed in as:  $LocalHost__DevelopmentUser__Name (roles: ${LocalHost__DevelopmentUser__Roles:-none}); see http://127.0.0.1:$PORT/api/workspace/me"
echo "  Outbox folder: $Email__Folder__Path (e-mails are written there as .eml files)"
echo "  Press Ctrl-C to stop the app and Azurite."
echo
wait "${pids[-1]}"
