#!/usr/bin/env bash
# The Azure cost of 1,000 leads, from counted storage requests and measured execution times (docs/performance.md, "Cost per
# 1,000 leads"). Every input is a variable with the default this repository measured or assumed, so a run with other prices,
# another mix of events or numbers from a real subscription is one command:
#   PRICE_ACS_EMAIL=0.0003 EVENTS_SCORING=20 tests/load/cost.sh
# It prints a table per meter and the total, without and with the monthly free grants of a subscription that has nothing else.
set -euo pipefail

# --- the typical lead (assumptions, documented in docs/performance.md) ---
: "${LEADS:=1000}"
: "${EVENTS_SCORING:=12}"      # events per lead that move the score (page views, downloads, opens, clicks), besides the form
: "${EVENTS_PLAIN:=7}"         # events per lead that change nothing listed (over a cap, a bot's open, a repeat view)
: "${SHARE_DOUBLE_OPT_IN:=0.5}" # leads whose consent needs a confirmation e-mail
: "${SHARE_MQL:=0.3}"          # leads that become MQLs and get the nurture programme
: "${NURTURE_EMAILS:=3}"       # e-mails of the shipped programme
: "${SHARE_SQL:=0.05}"         # leads that become SQLs: one alert and the SLA ladder's steps that go out
: "${SLA_EMAILS:=1}"           # of the ladder's steps, how many go out on average before sales answer
: "${EMAIL_KB:=40}"            # one rendered e-mail, HTML and text

# --- counted storage requests (RequestsPerEventTests, NurtureTimerCostTests; 2026-12-01, after the lead cache and the kept
# latest-snapshot work row: a scoring event is the lead's and the index's transactions, no delete; and the funnel's per-shard
# turns: a new lead is three transactions, none failing, and no counter read in a warm shard) ---
# One instance applies a lead's events (the lead cache saves the read); on several instances add up to 1 table request to an
# event that lands on an instance that did not write the lead last.
: "${TABLE_PER_NEW_LEAD:=5.9}"    ; : "${QUEUE_PER_NEW_LEAD:=1.4}"
: "${TABLE_PER_SCORING:=2.0}"     ; : "${QUEUE_PER_SCORING:=1.1}"
: "${TABLE_PER_PLAIN:=1.0}"       ; : "${QUEUE_PER_PLAIN:=1.25}"
: "${QUEUE_SEND_PER_EVENT:=1}"    # the capture or tracking function's enqueue
: "${TABLE_PER_EMAIL:=13}"        # the timer's requests per due item that sends

# --- execution (Flex Consumption bills instance memory while it executes; the load run's rates give instance time) ---
: "${INSTANCE_GB:=2}"                   # instanceMemoryMB 2048 in infra/main.bicep
: "${CAPTURE_ACTIVE_SECONDS:=0.004}"   # 1 / 249 req/s: the instance's busy time per form post in the load run
: "${PROCESS_ACTIVE_SECONDS:=0.0082}"  # 1 / 122 events/s: the instance's busy time per processed event
: "${CAPTURE_ALONE_SECONDS:=0.060}"    # p50 of one form post, billed as if nothing else ran (upper bound)
: "${PROCESS_ALONE_SECONDS:=0.050}"    # one event's four storage round trips and scoring, alone (upper bound)
: "${TIMER_SECONDS_PER_EMAIL:=0.019}"  # 19 s per 1,000 e-mails (NurtureTimerCostBenchmarks, quiet machine, Azurite)
: "${TELEMETRY_KB_PER_EXECUTION:=1.5}" # a request item and a few log lines at host.json's levels

# --- prices: USD, pay as you go, East US, list prices as last published before 2026-12-01; not checked online on the day
# (this machine has no network). Replace them with the Azure pricing calculator's for your region. ---
: "${PRICE_TABLE_10K:=0.00036}"      # Table Storage (LRS), per 10,000 transactions
: "${PRICE_QUEUE_10K:=0.004}"        # Queue Storage (GPv2 LRS), per 10,000 operations
: "${PRICE_EXECUTIONS_M:=0.40}"      # Flex Consumption on demand, per million executions
: "${PRICE_GBS:=0.000026}"           # Flex Consumption on demand, per GB-s
: "${PRICE_ACS_EMAIL:=0.00025}"      # Azure Communication Services e-mail, per e-mail sent
: "${PRICE_ACS_MB:=0.00012}"         # per MB transferred
: "${PRICE_EVENTGRID_M:=0.60}"       # Event Grid (basic), per million operations (delivery reports)
: "${PRICE_INSIGHTS_GB:=2.30}"       # Application Insights / Log Analytics ingestion, per GB
: "${FREE_EXECUTIONS:=250000}" ; : "${FREE_GBS:=100000}" ; : "${FREE_EVENTGRID:=100000}" ; : "${FREE_INSIGHTS_GB:=5}"

awk -v L="$LEADS" -v es="$EVENTS_SCORING" -v ep="$EVENTS_PLAIN" -v doi="$SHARE_DOUBLE_OPT_IN" -v mql="$SHARE_MQL" \
    -v ne="$NURTURE_EMAILS" -v sql="$SHARE_SQL" -v sla="$SLA_EMAILS" -v kb="$EMAIL_KB" \
    -v tn="$TABLE_PER_NEW_LEAD" -v qn="$QUEUE_PER_NEW_LEAD" -v ts="$TABLE_PER_SCORING" -v qs="$QUEUE_PER_SCORING" \
    -v tp="$TABLE_PER_PLAIN" -v qp="$QUEUE_PER_PLAIN" -v qsend="$QUEUE_SEND_PER_EVENT" -v te="$TABLE_PER_EMAIL" \
    -v gb="$INSTANCE_GB" -v ca="$CAPTURE_ACTIVE_SECONDS" -v pa="$PROCESS_ACTIVE_SECONDS" -v cal="$CAPTURE_ALONE_SECONDS" \
    -v pal="$PROCESS_ALONE_SECONDS" -v tse="$TIMER_SECONDS_PER_EMAIL" -v tkb="$TELEMETRY_KB_PER_EXECUTION" \
    -v p_t="$PRICE_TABLE_10K" -v p_q="$PRICE_QUEUE_10K" -v p_x="$PRICE_EXECUTIONS_M" -v p_g="$PRICE_GBS" \
    -v p_e="$PRICE_ACS_EMAIL" -v p_mb="$PRICE_ACS_MB" -v p_eg="$PRICE_EVENTGRID_M" -v p_ai="$PRICE_INSIGHTS_GB" \
    -v f_x="$FREE_EXECUTIONS" -v f_g="$FREE_GBS" -v f_eg="$FREE_EVENTGRID" -v f_ai="$FREE_INSIGHTS_GB" '
function max0(x) { return x < 0 ? 0 : x }
BEGIN {
  events = L * (1 + es + ep)
  emails = L * (doi + mql * ne + sql * (1 + sla))
  table = L * (tn + es * ts + ep * tp) + emails * te
  queue = L * (qn + es * qs + ep * qp) + events * qsend
  executions = 2 * events                     # one HTTP (capture or tracking) and one queue execution per event
  gbs_low = gb * (events * (ca + pa) + emails * tse)
  gbs_high = gb * (events * (cal + pal) + emails * tse)
  reports = emails                            # one delivery report per e-mail through Event Grid
  insights_gb = (executions + emails) * tkb / 1024 / 1024

  c_table = table / 10000 * p_t; c_queue = queue / 10000 * p_q; c_x = executions / 1e6 * p_x
  c_gl = gbs_low * p_g; c_gh = gbs_high * p_g; c_mail = emails * p_e + emails * kb / 1024 * p_mb
  c_eg = reports / 1e6 * p_eg; c_ai = insights_gb * p_ai
  printf "Per %d leads: %d events, %d e-mails\n\n", L, events, emails
  printf "| meter | quantity | cost (USD) |\n| --- | --- | --- |\n"
  printf "| Table Storage transactions | %d | %.4f |\n", table, c_table
  printf "| Queue Storage operations | %d | %.4f |\n", queue, c_queue
  printf "| Functions executions | %d | %.4f |\n", executions, c_x
  printf "| Functions GB-s (busy instance time .. each execution alone) | %.0f .. %.0f | %.4f .. %.4f |\n", gbs_low, gbs_high, c_gl, c_gh
  printf "| ACS e-mails (and MB) | %d (%.1f MB) | %.4f |\n", emails, emails * kb / 1024, c_mail
  printf "| Event Grid delivery reports | %d | %.4f |\n", reports, c_eg
  printf "| Application Insights ingestion | %.3f GB | %.4f |\n", insights_gb, c_ai
  low = c_table + c_queue + c_x + c_gl + c_mail + c_eg + c_ai
  high = c_table + c_queue + c_x + c_gh + c_mail + c_eg + c_ai
  printf "| **total, no free grants** | | **%.2f .. %.2f** |\n", low, high
  free = c_table + c_queue + max0(executions - f_x) / 1e6 * p_x + max0(gbs_high - f_g) * p_g + c_mail + max0(reports - f_eg) / 1e6 * p_eg + max0(insights_gb - f_ai) * p_ai
  printf "| total with the monthly free grants (upper bound, nothing else in the subscription) | | %.2f |\n", free
}'
