#!/usr/bin/env bash
# The examples as a user runs them: 3 replicas over 30 simulated days each, the numbers
# their summaries must show, the exit codes, the errors for bad options, and --check
# catching a duplicate and a miss in an audit file.
#     tests/examples/examples.test.sh BUILD_DIR/examples
set -euo pipefail
bin=$1
work=$(mktemp -d /tmp/sked-examples-XXXXXX)
redis_pid=""
cleanup() {
  if [[ -n "$redis_pid" ]]; then
    kill "$redis_pid" 2> /dev/null || true
    wait "$redis_pid" 2> /dev/null || true  # it may still write its log into $work
  fi
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
expect() {  # expect WHAT STATUS PATTERN... -- COMMAND...: exit status and every pattern in the output
  local what=$1 status=$2; shift 2
  local patterns=()
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  local out got=0
  out=$("$@" 2>&1) || got=$?
  local ok=1
  [[ $got == "$status" ]] || ok=0
  for p in "${patterns[@]}"; do grep -qE -- "$p" <<< "$out" || { ok=0; echo "  missing: $p"; }; done
  if ((ok)); then echo "ok   $what"; else echo "FAIL $what (exit $got, expected $status)"; echo "$out" | head -20; failures=$((failures + 1)); fi
}

expect "reward: 30 days, 3 replicas, an outage over one midnight" 0 \
  "daily_reward: 30 slots, 30 executions, 0 duplicates, 0 misses, 1 caught up late$" \
  "rewards: 100 players, each holds 30 \(zone Asia/Manila\)" -- \
  "$bin/reward" --replicas 3 --simulate 30d --outage 9d15h+2h --audit "$work/reward.jsonl" --log "$work/reward.log"
expect "reward: the audit has one line per execution, slots at 16:00Z (Manila midnight)" 0 "^30$" -- \
  bash -c "grep -c '\"slot\":\"2026-11-[0-9][0-9]T16:00:00Z\",\"replica\":\"replica-[123]\",\"fencing\":[0-9]*,\"outcome\":\"ok\"' '$work/reward.jsonl'"
expect "reward: the log has start, finish and skip lines; the missed midnight ran an hour late" 0 \
  "^\[2026-11-01T16:00:00.000Z\] job started job=daily_reward slot=2026-11-01T16:00:00Z attempt=1 fence=[0-9]+ late=0.000s replica=replica-[123]$" \
  "^\[2026-11-01T16:00:02.000Z\] job completed in 2.000s job=daily_reward slot=2026-11-01T16:00:00Z" \
  "^\[2026-11-01T16:00:00.000Z\] skipped_lock job=daily_reward slot=2026-11-01T16:00:00Z replica=replica-[123]$" \
  "job started job=daily_reward slot=2026-11-10T16:00:00Z .*late=3600.000s" -- cat "$work/reward.log"
expect "reward: New York midnight moves from 04:00Z to 05:00Z when DST ends on 2026-11-01" 0 \
  '"slot":"2026-11-01T04:00:00Z"' '"slot":"2026-11-02T05:00:00Z"' -- \
  bash -c "'$bin/reward' --tz America/New_York --simulate 2d --quiet --audit '$work/ny.jsonl' > /dev/null && cat '$work/ny.jsonl'"
expect "drop: 30 days, 3 replicas; slow drops are never overlapped" 0 \
  "activity_drop: 8640 slots, [0-9]+ executions, 0 duplicates, 0 misses, [1-9][0-9]* skipped while a run lasted$" \
  "drops: [1-9][0-9]* spawned, at most 1 being spawned at once" -- \
  "$bin/drop" --replicas 3 --simulate 30d --quiet
expect "expiry: 30 days, 3 replicas, every minute once" 0 \
  "trade_expiry: 43200 slots, 43200 executions, 0 duplicates, 0 misses$" \
  "expired with ([0-9]+) notifications; 0 expired early, 0 overdue" -- \
  "$bin/expiry" --replicas 3 --simulate 30d --quiet

# --check sees what went wrong: a slot run twice, a slot never run.
head -n 3 "$work/reward.jsonl" > "$work/bad.jsonl"
sed -n 3p "$work/reward.jsonl" >> "$work/bad.jsonl"  # slot 3 twice
sed -n 5p "$work/reward.jsonl" >> "$work/bad.jsonl"  # slot 4 missing
expect "--check reports a duplicate and a miss" 1 \
  "daily_reward: 5 slots, 5 executions, 1 duplicates, 1 misses" "2026-11-03T16:00:00Z ran 2 times" \
  "2026-11-04T16:00:00Z never ran" -- "$bin/reward" --check "$work/bad.jsonl"
echo "not json" >> "$work/bad.jsonl"
expect "--check names the line that is not an audit line" 2 "bad.jsonl:6: not an audit line: not json" -- \
  "$bin/reward" --check "$work/bad.jsonl"

expect "bad --replicas" 2 "--replicas: expected a number from 1 to 64, got '0'" -- "$bin/drop" --replicas 0
expect "bad --simulate" 2 "--simulate: expected a duration such as 30d, 90s or 1h30m, got '3x'" -- "$bin/drop" --simulate 3x
expect "unknown zone" 2 "--tz: unknown time zone 'Mars/Olympus'" -- "$bin/reward" --tz Mars/Olympus
expect "unknown option" 2 "--colour: unknown option" -- "$bin/expiry" --colour red
expect "--outage needs --simulate" 2 "--outage: only with --simulate" -- "$bin/reward" --outage 1d+1h
for players in abc -1 99999999999; do
  expect "bad --players $players" 2 "--players: expected a whole number from 1 to 10000000, got '$players'" -- \
    "$bin/reward" --players "$players"
done
expect "bad --threshold" 2 "--threshold: expected a whole number from 1 to 1000000, got 'x'" -- "$bin/drop" --threshold x
expect "--run too long" 2 "--run: at most 366d, got '999999999d'" -- "$bin/reward" --run 999999999d
expect "--simulate too long" 2 "--simulate: at most 3653d, got '999999999d'" -- "$bin/reward" --simulate 999999999d
expect "bad --work" 2 "--work: expected a duration from 0s to 1h such as 1s, got '2x'" -- "$bin/expiry" --work 2x
expect "bad --misfire" 2 "--misfire: expected skip, run_once or run_each, got 'bogus'" -- "$bin/drop" --misfire bogus
expect "bad --overlap" 2 "--overlap: expected skip, queue_one, allow or cancel_running, got 'x'" -- "$bin/drop" --overlap x
expect "--outage past the end" 2 "--outage: it ends after the --simulate period" -- \
  "$bin/reward" --simulate 1d --outage 23h+2h
expect "--overlap queue_one --misfire run_each: every slot once" 0 \
  "trade_expiry: 2880 slots, 2880 executions, 0 duplicates, 0 misses" -- \
  "$bin/expiry" --replicas 3 --simulate 2d --overlap queue_one --misfire run_each --quiet
expect "expiry's defaults give a clean real-time run at a 1 s tick" 0 "0 duplicates, 0 misses" -- \
  "$bin/expiry" --tick 1s --run 4s --quiet
expect "campaign: 14 days, 3 replicas, an outage of every replica in business hours" 0 \
  "timeouts: 479 created, 479 fired once, [1-9][0-9]* retried, 0 failed for good, 0 duplicates, 0 lost, 0 fired outside business hours, 0 still pending at the end$" -- \
  "$bin/campaign" --replicas 3 --simulate 14d --outage 4d2h+9h --quiet --audit "$work/campaign.jsonl" --created "$work/created.jsonl"
expect "campaign: audit lines carry the timeout's key and its due instant as the slot" 0 \
  '^\{"job":"expire_node","key":"node-[0-9]+","slot":"2026-11-[0-9T:]+Z","replica":"replica-[123]","fencing":[0-9]+,"outcome":"ok"' -- \
  grep -m 1 '"outcome":"ok"' "$work/campaign.jsonl"
expect "campaign: the created file has one line per timeout" 0 '^479$' -- bash -c "grep -c '^{\"key\":\"node-[0-9]*\",\"due\":\"2026-1[12]-[0-9T:]*Z\",\"replica\":\"replica-[123]\"}$' '$work/created.jsonl'"
expect "campaign: --check of the merged audit agrees" 0 "479 created, 479 fired once, .* 0 duplicates, 0 lost" -- \
  "$bin/campaign" --check "$work/campaign.jsonl" --created "$work/created.jsonl"
expect "campaign: --check finds a timeout that fired twice" 1 "1 duplicates" -- \
  bash -c "grep -m 1 '\"outcome\":\"ok\"' '$work/campaign.jsonl' > '$work/twice.jsonl' && cat '$work/campaign.jsonl' >> '$work/twice.jsonl' && '$bin/campaign' --check '$work/twice.jsonl' --created '$work/created.jsonl'"
expect "campaign: any hour, half the calls refused: some fail for good after 5 attempts, none is lost" 0 \
  "500 created, [0-9]+ fired once, [0-9]+ retried, [1-9][0-9]* failed for good, 0 duplicates, 0 lost" -- \
  "$bin/campaign" --replicas 3 --simulate 14d --hours always --fail-rate 0.5 --quiet
expect "campaign: bad --hours" 2 "--hours: expected business or always, got 'night'" -- "$bin/campaign" --hours night
expect "campaign: bad --fail-rate" 2 "--fail-rate: expected a number from 0 to 1, got '2'" -- "$bin/campaign" --fail-rate 2
expect "unreachable Redis" 2 "--redis 127.0.0.1:1: unreachable" -- "$bin/reward" --redis 127.0.0.1:1 --simulate 1d
expect "--postgres only in real time" 2 "--postgres: only in real time \(--run\)" -- \
  "$bin/reward" --postgres postgresql://127.0.0.1:1/x --simulate 1d
expect "--postgres and Redis" 2 "--postgres and Redis: choose one backend" -- \
  "$bin/reward" --postgres postgresql://127.0.0.1:1/x --redis 127.0.0.1:1 --run 1s
expect "--postgres not a URL" 2 "--postgres: expected a libpq URL such as postgresql://" -- "$bin/reward" --postgres db1
expect "unreachable PostgreSQL" 2 "--postgres: unreachable: connecting to 127.0.0.1:1" -- \
  "$bin/reward" --postgres postgresql://sked@127.0.0.1:1/postgres --run 1s
expect "--help" 0 "usage: .*reward" "--tz ZONE" -- "$bin/reward" --help

# The same simulation on a real Redis (a fresh prefix per run).
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$port" ping 2> /dev/null | grep -q PONG && break; sleep 0.1; done
expect "reward on Redis: 30 days, 3 replicas, an outage" 0 \
  "daily_reward: 30 slots, 30 executions, 0 duplicates, 0 misses, 1 caught up late$" "each holds 30 " -- \
  "$bin/reward" --replicas 3 --simulate 30d --outage 9d15h+2h --redis "127.0.0.1:$port" --quiet
expect "drop on Redis: 3 days, 3 replicas" 0 "activity_drop: 864 slots, [0-9]+ executions, 0 duplicates, 0 misses" \
  "at most 1 being spawned at once" -- "$bin/drop" --replicas 3 --simulate 3d --redis "127.0.0.1:$port" --quiet

expect "campaign on Redis: 14 days, 3 replicas, an outage of every replica" 0 \
  "timeouts: 479 created, 479 fired once, [1-9][0-9]* retried, 0 failed for good, 0 duplicates, 0 lost, 0 fired outside business hours" -- \
  "$bin/campaign" --replicas 3 --simulate 14d --outage 4d2h+9h --redis "127.0.0.1:$port" --quiet

((failures == 0)) || { echo "$failures failed"; exit 1; }
echo "all passed"
