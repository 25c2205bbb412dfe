#!/usr/bin/env bash
# A bounded load run on this machine: Azurite in memory and the local host (Release) on free 127.0.0.1 ports, an isolated
# outbox, then `LeadFunctions.Benchmarks load` measures the landing page, form posts and queue processing. See docs/performance.md.
# Each of capture and processing is measured in LOAD_ROUNDS alternating rounds against its baseline in the same Azurite (a bare
# enqueue of the same message size; a raw SDK loop doing the processor's storage work), reported as ours/baseline min/median/max
# and as one JSON line (LOAD_RESULT ...).
# Counts (env): LOAD_REQUESTS (2000), LOAD_CONCURRENCY (16), LOAD_EVENTS (2000), LOAD_PHASE_SECONDS (30, the cap of each HTTP
# phase; a processing round may take max(3 x that, LOAD_EVENTS / 10) s), LOAD_ROUNDS (3),
# LOAD_COMPLETION_CHECK (queue: the queue's approximate count; scan: the old scan of the leads table, for comparison).
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/load/common.sh
make_scratch load
build_release "load tool"
start_storage
LEADS_TABLE="LoadLeads$(date +%s)"
# The nurture timer is off (once a year) so it does not compete, and the per-client rate limits are off: every request
# comes from 127.0.0.1, and this measures throughput.
# Every storage request of the local host is counted by kind (an Azure.Core pipeline policy on its clients and the WebJobs
# listener's), written to a file the load tool reads before and after the processing phase.
COUNT_FILE="$SCRATCH/storage-requests.json"
start_local_host "" Storage__LeadsTable="$LEADS_TABLE" NurtureSchedule="0 0 0 1 1 *" RateLimit__Enabled=false \
  LocalHost__StorageRequestCountFile="$COUNT_FILE"

announce_measuring
LOAD_URL="http://127.0.0.1:$APP_PORT" LOAD_STORAGE="$STORAGE" LOAD_LEADS_TABLE="$LEADS_TABLE" LOAD_COUNT_FILE="$COUNT_FILE" \
  dotnet "$BIN/bench/LeadFunctions.Benchmarks.dll" load
