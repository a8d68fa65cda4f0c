#!/usr/bin/env bash
# --http on an example, as an operator uses it: 2 reward replicas in real time serve
# /health, /metrics (promtool checks it), /scheduler/status, the dashboard, and POST pause
# with --http-token; a pause over HTTP shows in the log, the status and the metrics.
#     tests/examples/http.test.sh BUILD_DIR/examples
set -euo pipefail
bin=$1
source "$(dirname "$0")/../support/processes.sh"

start_reward --replicas 2 --run 12s --tick 1s --work 10ms --http 127.0.0.1:0 --http-token s3cret
first=http://$(served_by replica-1)
second=http://$(served_by replica-2)
check "each replica prints its URL ($first, $second)" test "$first" != http:// -a "$second" != http:// -a "$first" != "$second"
sleep 1.5
check "/health answers 200 healthy on both" \
  bash -c "curl -sf '$first/health' | grep -q '\"healthy\":true' && curl -sf '$second/health' | grep -q '\"replica\":\"replica-2\"'"
curl -sf "$first/metrics" > "$work/metrics"
check "/metrics passes promtool check metrics" bash -c "promtool check metrics < '$work/metrics'"
check "/scheduler/status is the JSON status" bash -c "curl -sf '$first/scheduler/status' | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); assert s[\"jobs\"][0][\"name\"]==\"daily_reward\"'"
check "/scheduler is the dashboard" bash -c "curl -sf '$first/scheduler' | grep -q '<title>sked'"
check "POST pause without the token is 401" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$first/scheduler/jobs/daily_reward/pause")" = 401
check "POST pause with it is 200" bash -c "curl -sf -X POST -H 'Authorization: Bearer s3cret' '$first/scheduler/jobs/daily_reward/pause' | grep -q '\"action\":\"pause\"'"
sleep 2.5
check "the pause shows in the status and the metrics" \
  bash -c "curl -sf '$first/scheduler/status' | grep -q '\"paused\":true' && curl -sf '$first/metrics' | grep -q 'sked_job_skips_total{sked_job=\"daily_reward\",reason=\"paused\"} [1-9]'"
check "and in the log, while the other replica goes on" \
  bash -c "grep -q 'skipped_paused job=daily_reward .* replica=replica-1' '$work/log' && grep -q 'job completed .* replica=replica-2' '$work/log'"
wait "$service_pid"
check "the run ends with its summary" grep -q "0 duplicates, 0 misses" "$work/out"
check "--http in a simulation is refused" \
  bash -c "'$bin/reward' --simulate 1d --http 127.0.0.1:0 2>&1 | grep -q -- '--http: only in real time'"
check "a bad --http is refused, naming the form" \
  bash -c "'$bin/reward' --run 1s --http nowhere 2>&1 | grep -q -- \"--http: expected ADDR:PORT such as 127.0.0.1:3000, got 'nowhere'\""
check "an address it cannot listen on refuses the replica, naming it" \
  bash -c "'$bin/reward' --run 2s --http 10.255.255.1:3000 2>&1 | grep -q -- '--http: sked::http::server: cannot listen on 10.255.255.1:3000'"
finish
