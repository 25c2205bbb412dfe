#!/usr/bin/env bash
# The hostile corpus at scale: Azurite in memory and the local host (Release, with function keys required as in Azure) on free
# 127.0.0.1 ports, then `LeadFunctions.Benchmarks hostile COUNT` sends the suite's generator's requests (tests/Shared/HostileCorpus.cs)
# and checks every answer by the corpus test's rules. Exit code 1 when any answer breaks one. See docs/performance.md.
# Usage: tests/load/hostile.sh [COUNT] (default 100000). Env: HOSTILE_SEED (repeat a run), HOSTILE_CONCURRENCY (16),
# HOSTILE_SIGNED_IN=1 (sign every request in as a development admin, so the workspace's own checks see the input).
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${1:-100000}

source tests/load/common.sh
make_scratch hostile
build_release "hostile corpus"
start_storage
# The keys the corpus signs with (HostileCorpusSecrets.Default); rate limits off, or nearly everything would be a 429.
settings=(NurtureSchedule="0 0 0 1 1 *" RateLimit__Enabled=false LocalHost__RequireFunctionKey=true
  Tracking__SigningKey="hostile-corpus-tracking-signing-key-0123456789abcdef"
  Crm__WebhookSecret="hostile-corpus-crm-webhook-secret-0123456789abcdef"
  DeliveryReports__WebhookSecret="hostile-corpus-delivery-secret-0123456789abcdef"
  LocalHost__DisableTriggers=true)
if [[ "${HOSTILE_SIGNED_IN:-0}" == 1 ]]; then
  settings+=(LocalHost__DevelopmentUser__Id="00000000-0000-0000-0000-00000000d3e7" LocalHost__DevelopmentUser__Name="Hostile Tester"
    LocalHost__DevelopmentUser__Roles="sales,marketing,admin")
fi
start_local_host "" "${settings[@]}"

announce_measuring
HOSTILE_URL="http://127.0.0.1:$APP_PORT/" HOSTILE_STORAGE="$STORAGE" HOSTILE_FORMS="functions/LeadFunctions/config/forms.json" \
  dotnet "$BIN/bench/LeadFunctions.Benchmarks.dll" hostile "$COUNT"
