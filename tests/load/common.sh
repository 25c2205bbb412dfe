# Shared by tests/load/load.sh and tests/load/speed-to-lead.sh (sourced from the repository root, not run): one way to get
# a scratch folder that is removed on exit, the Release builds, Azurite in memory and the local host on free 127.0.0.1 ports,
# so both measure the same set-up.

source scripts/dev-services.sh
require_tools
ensure_azurite_installed

BIN="$(pwd)/tests/load/bin"
pids=()

load_cleanup() {
  trap - EXIT INT TERM
  # The app first, Azurite last: the app shuts down gracefully only while storage still answers it.
  for pid in "${pids[@]}" ${AZURITE_PID:-}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # LOAD_KEEP_LOG=<file>: the host's log outlives the scratch folder (to count warnings or conflicts after a run).
  if [[ -n "${LOAD_KEEP_LOG:-}" && -f "$SCRATCH/app.log" ]]; then
    cp "$SCRATCH/app.log" "$LOAD_KEEP_LOG" || true
  fi
  rm -rf "$SCRATCH"
}

# Sets SCRATCH to a new temporary folder named after $1; it, the app and Azurite go on exit or Ctrl-C.
make_scratch() {
  SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/leadfunctions-$1.XXXXXX")"
  trap load_cleanup EXIT
  trap 'exit 130' INT TERM
}

# Builds the local host and the measuring tool (named by $1 in the progress line) into $BIN.
build_release() {
  echo "== Building the local host and the $1 (Release)"
  dotnet build functions/LeadFunctions.LocalHost --nologo -v quiet -c Release -o "$BIN/localhost" >/dev/null
  dotnet build tests/LeadFunctions.Benchmarks --nologo -v quiet -c Release -o "$BIN/bench" >/dev/null
}

# Picks APP_PORT and starts Azurite in memory; sets STORAGE to its connection string.
start_storage() {
  APP_PORT=$(free_port)
  start_azurite_in_memory "$SCRATCH/azurite.log"
  STORAGE="$AZURITE_STORAGE"
}

# start_local_host NOTE [NAME=VALUE...]: the local host on APP_PORT against STORAGE, e-mail to the folder outbox
# $SCRATCH/outbox, logs (host.json levels, as in Azure) to $SCRATCH/app.log, plus the given settings; waits until it listens.
start_local_host() {
  local note=$1
  shift
  echo "== Starting the local host on http://127.0.0.1:$APP_PORT/ (${note}log: $SCRATCH/app.log)"
  (
    cd "$BIN/localhost"
    exec env PORT="$APP_PORT" LeadStorage="$STORAGE" AzureWebJobsStorage="$STORAGE" \
      Email__Sender=Folder Email__Folder__Path="$SCRATCH/outbox" LocalHost__TimerStatusFolder="$SCRATCH/timers" \
      "$@" dotnet LeadFunctions.LocalHost.dll >"$SCRATCH/app.log" 2>&1
  ) &
  pids+=($!)
  wait_for_port "$APP_PORT"
}

announce_measuring() {
  echo "== Measuring ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
}
