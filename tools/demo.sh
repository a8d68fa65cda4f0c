#!/usr/bin/env bash
# The main demo: the four example jobs, each on 3 replicas sharing the in-memory backend,
# over 30 (campaign: 14) simulated days (a virtual clock; it takes seconds). Each prints
# its summary counted from its audit file: slots, executions, duplicates, misses.
#   reward  one reward per player at 00:00 Asia/Manila; every replica is down over one midnight
#   drop    every 5 minutes, a drop if chat was busy; slow drops are never overlapped
#   expiry  every minute, trades past their time-to-live expire, each with one notification
#   campaign  node timeouts created at run time fire once, in business hours, with retries
# Last, expiry runs 20 s in real time with --http: each replica prints the URL of its
# dashboard, /health and /metrics (docs/http.md).
# tools/demo-cron.sh shows the cron tool (sked next / explain / check / plan).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ "${SKED_SKIP_INSTALL:-0}" != 1 ]]; then "$root/tools/install-deps.sh" --demo; fi
out="$root/build/demo"
cmake -S "$root" -B "$out" -DCMAKE_BUILD_TYPE=Release -DSKED_BUILD_TESTS=OFF -DSKED_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build "$out" --target reward drop expiry campaign -j "$(nproc)" > /dev/null

run() {  # run NAME ARGS...: prints the command, runs it with a log and an audit file
  local name=$1; shift
  printf '\n$ examples/%s %s\n' "$name" "$*"
  rm -f "$out/$name.log" "$out/$name.jsonl"
  "$out/examples/$name" "$@" --log "$out/$name.log" --audit "$out/$name.jsonl"
}
excerpt() {  # excerpt FILE PATTERN: the first 3 lines matching
  printf '  %s\n' "$(basename "$1"):"
  grep -m 3 -E -- "$2" "$1" | sed 's/^/    /'
}

run reward --replicas 3 --simulate 30d --outage 9d15h+2h
excerpt "$out/reward.log" "slot=2026-11-01T"
echo "  the midnight of 2026-11-10, missed while every replica was down, granted once on restart:"
grep -E "job started.*slot=2026-11-10T" "$out/reward.log" | sed 's/^/    /'
run drop --replicas 3 --simulate 30d
excerpt "$out/drop.jsonl" '"detail":"dropped'
run expiry --replicas 3 --simulate 30d
excerpt "$out/expiry.jsonl" '"detail":"expired [1-9]'
run campaign --replicas 3 --simulate 14d --outage 4d2h+9h
excerpt "$out/campaign.log" 'job retrying'
printf '\n20 s in real time, each replica serving /health, /metrics and the dashboard (/scheduler):\n'
run expiry --replicas 3 --run 20s --tick 1s --http 127.0.0.1:0
printf '\nLogs and audit files: build/demo/{reward,drop,expiry,campaign}.{log,jsonl}. Options: build/demo/examples/reward --help\n'
