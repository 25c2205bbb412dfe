# Shared by run.sh, test.sh and tests/load/common.sh (sourced, not run): installing and starting Azurite the same way everywhere.
# Expects to be sourced from the repository root.

require_tools() {
  command -v dotnet >/dev/null || { echo "The .NET SDK is required (see global.json)." >&2; exit 1; }
  command -v node >/dev/null || { echo "Node.js is required (it runs Azurite)." >&2; exit 1; }
}

# Azurite and Chart.js (which the app's build vendors into the dashboard) come from package.json; reinstall when either is
# missing or the lock file is newer than the installed tree. Call it before any dotnet build of the functions app.
ensure_azurite_installed() {
  if [ ! -x node_modules/.bin/azurite ] || [ ! -f node_modules/chart.js/dist/chart.umd.min.js ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "== Installing Azurite and Chart.js (npm ci)"
    npm ci --no-audit --no-fund
  fi
}

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

# Azurite's well-known development account (public, documented by Microsoft; it only opens the local emulator).
azurite_connection_string() {
  local blob=$1 queue=$2 table=$3 account=devstoreaccount1
  local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  echo "DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob/$account;QueueEndpoint=http://127.0.0.1:$queue/$account;TableEndpoint=http://127.0.0.1:$table/$account;"
}

# Starts Azurite in memory on free 127.0.0.1 ports, logging to $1 (default: the terminal);
# sets AZURITE_PID and AZURITE_STORAGE (its connection string). The caller stops it (kill "$AZURITE_PID").
start_azurite_in_memory() {
  local log=${1:-/dev/stdout} blob queue table
  blob=$(free_port); queue=$(free_port); table=$(free_port)
  echo "== Starting Azurite in memory (blob $blob, queue $queue, table $table)"
  # Its own session, so a Ctrl-C in the terminal does not take storage away before the app using it has stopped.
  setsid node_modules/.bin/azurite --silent --inMemoryPersistence --disableTelemetry --skipApiVersionCheck \
    --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" >>"$log" 2>&1 &
  AZURITE_PID=$!
  wait_for_port "$blob" && wait_for_port "$queue" && wait_for_port "$table" || return 1
  AZURITE_STORAGE=$(azurite_connection_string "$blob" "$queue" "$table")
}
