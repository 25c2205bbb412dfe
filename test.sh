#!/usr/bin/env bash
# Runs every test from a fresh clone: restore, Azurite (in memory, free ports), build once, test every project.
# Exits non-zero on any failure and ends with a plain "N passed, N failed" line for CI. See docs/local-development.md.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"
RESULTS="$ROOT/TestResults"

source scripts/dev-services.sh
require_tools

echo "== Restoring .NET packages"
dotnet restore LeadFunctions.sln --nologo

ensure_azurite_installed

# A real-browser test drives Debian's Chromium (never a downloaded browser); install it only when such a test exists.
if grep -rqs "LEADFUNCTIONS_CHROMIUM" tests --include=*.cs; then
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== Installing Chromium (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
  if [ -x /usr/bin/chromium ]; then export LEADFUNCTIONS_CHROMIUM=/usr/bin/chromium; fi
fi

AZURITE_PID=""
cleanup() {
  if [ -n "$AZURITE_PID" ]; then
    kill "$AZURITE_PID" 2>/dev/null || true
    wait "$AZURITE_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_azurite_in_memory
export LEADFUNCTIONS_TEST_STORAGE="$AZURITE_STORAGE"

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
