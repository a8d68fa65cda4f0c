#!/usr/bin/env bash
# `sked status` and the control commands against real example processes, as the person on
# call uses them (docs/operations.md): healthy, a job paused and stagger switched off at
# run time (seen in the log, the status and the metrics), unhealthy when Redis dies, and
# unreachable when the service is gone; a bad URL and a server that is not sked.
#     tests/tools/sked_status.test.sh path/to/sked BUILD_DIR/examples
set -euo pipefail
sked=$1
bin=$2
source "$(dirname "$0")/../support/processes.sh"
exits() {  # exits CODE COMMAND...: the command's exit status is CODE (its output goes to $work/said)
  local code=0
  "${@:2}" > "$work/said" 2>&1 || code=$?
  [[ $code == "$1" ]] || { echo "  exit $code, expected $1:"; sed 's/^/  | /' "$work/said"; return 1; }
}

start_redis
start_reward --replicas 2 --run 40s --tick 1s --work 10ms --redis "127.0.0.1:$redis_port" \
  --http 127.0.0.1:0 --http-token s3cret
first=http://$(served_by replica-1)
second=http://$(served_by replica-2)
sleep 2.5

check "healthy: exit 0, a table with the job, its schedule in words and its counts" \
  bash -c "$(declare -f exits); work=$work; exits 0 '$sked' status '$first' &&
    grep -q '^replica replica-1 at $first: healthy; backend reachable; stagger on; 1 jobs' '$work/said' &&
    grep -q '^JOB  *SCHEDULE  *NEXT RUN' '$work/said' && grep -q '^daily_reward  *Every 1s  *20[0-9-]*T[0-9:]*Z  ' '$work/said'"
"$bin/reward" --run 40s --http 127.0.0.1:0 --name manila > "$work/manila.out" 2> "$work/manila.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "manila-1 serves" "$work/manila.log" && break; sleep 0.05; done
manila=$(grep -o "manila-1 serves http://[0-9.:]*" "$work/manila.log" | sed 's/.* //')
check "a cron job in its zone: the schedule in words, the next run at midnight in Manila (+08:00)" \
  bash -c "'$sked' status '$manila' | grep -q '^daily_reward  *At 00:00 every day (Asia/Manila)  *20[0-9-]*T00:00:00+08:00  *- '"
check "both replicas at once (URL,URL)" \
  bash -c "$(declare -f exits); work=$work; exits 0 '$sked' status '$first,$second' &&
    grep -q '^replica replica-2 at $second: healthy' '$work/said'"
check "--json passes the status through" \
  bash -c "'$sked' status '$first' --json | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); assert s[\"replica\"]==\"replica-1\" and s[\"jobs\"][0][\"name\"]==\"daily_reward\"'"
check "--watch 1 refreshes (two tables in 2.5 s)" \
  bash -c "timeout 2.5 '$sked' status '$first' --watch 1 > '$work/watch' || true; test \$(grep -c '^JOB ' '$work/watch') -ge 2"

check "pause without the token: exit 1, says how to give it" \
  bash -c "$(declare -f exits); work=$work; exits 1 '$sked' pause '$first' daily_reward && grep -q 'refused, 401.*--token or SKED_TOKEN' '$work/said'"
check "pause with a wrong token: exit 1" bash -c "$(declare -f exits); work=$work; exits 1 '$sked' pause '$first' daily_reward --token nope"
check "pause a job that does not exist: exit 1, names it" \
  bash -c "$(declare -f exits); work=$work; exits 1 '$sked' pause '$first' nobody --token s3cret && grep -q \"no job 'nobody'\" '$work/said'"
check "pause on replica-1 (SKED_TOKEN): exit 0" \
  bash -c "$(declare -f exits); work=$work; SKED_TOKEN=s3cret exits 0 '$sked' pause '$first' daily_reward"
check "stagger-off for every job on replica-1: exit 0" \
  bash -c "$(declare -f exits); work=$work; exits 0 '$sked' stagger-off '$first' --token s3cret"
sleep 1.5
check "the switches show in sked status (paused, stagger off) and exit 0: paused is not unhealthy" \
  bash -c "$(declare -f exits); work=$work; exits 0 '$sked' status '$first' &&
    grep -q 'healthy; backend reachable; stagger off;' '$work/said' && grep -q '^daily_reward .* paused *$' '$work/said'"
check "in the log" \
  bash -c "grep -q '] job paused job=daily_reward replica=replica-1$' '$work/log' &&
    grep -q '] stagger off jobs=all replica=replica-1$' '$work/log' && grep -q 'skipped_paused job=daily_reward .*replica=replica-1' '$work/log'"
check "in the metrics" \
  bash -c "curl -sf '$first/metrics' > '$work/metrics' && grep -q '^sked_job_paused{sked_job=\"daily_reward\"} 1$' '$work/metrics' &&
    grep -q '^sked_stagger_enabled 0$' '$work/metrics'"
check "run JOB: exit 0 (it runs now, as the slot of this second)" \
  bash -c "$(declare -f exits); work=$work; exits 0 '$sked' run '$first' daily_reward --token s3cret && grep -q ': run daily_reward$' '$work/said'"
check "resume and stagger-on undo them" \
  bash -c "'$sked' resume '$first' daily_reward --token s3cret > /dev/null && '$sked' stagger-on '$first' --token s3cret > /dev/null &&
    grep -q '] job resumed job=daily_reward replica=replica-1$' '$work/log' && '$sked' status '$first' | grep -q 'stagger on;'"

kill "$redis_pid"
wait "$redis_pid" 2> /dev/null || true
sleep 2.5
check "Redis gone: exit 1, unhealthy with the reason" \
  bash -c "$(declare -f exits); work=$work; exits 1 '$sked' status '$first' &&
    grep -q 'UNHEALTHY: the backend does not answer; backend UNREACHABLE' '$work/said'"

kill "$service_pid"
wait "$service_pid" 2> /dev/null || true
check "the service gone: exit 2, unreachable with the reason" \
  bash -c "$(declare -f exits); work=$work; exits 2 '$sked' status '$first' && grep -q '^$first: unreachable: Connection refused$' '$work/said'"
check "control of a service that is gone: exit 2, names it" \
  bash -c "$(declare -f exits); work=$work; exits 2 '$sked' pause '$first' daily_reward --token s3cret &&
    grep -q '^sked: $first: unreachable: Connection refused$' '$work/said'"

other=$(free_port)
mkdir "$work/site"
(cd "$work/site" && exec /usr/bin/python3 -m http.server --bind 127.0.0.1 "$other" > /dev/null 2>&1) &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$other/" && break; sleep 0.1; done
check "a server that is not sked: exit 2, says so" \
  bash -c "$(declare -f exits); work=$work; exits 2 '$sked' status 'http://127.0.0.1:$other' &&
    grep -q '^http://127.0.0.1:$other: not a sked service: GET /scheduler/status answered 404$' '$work/said'"
echo '{"hello":"world"}' > "$work/site/status"
mkdir -p "$work/site/scheduler" && mv "$work/site/status" "$work/site/scheduler/status"
check "a server that answers JSON that is not sked's: exit 2" \
  bash -c "$(declare -f exits); work=$work; exits 2 '$sked' status 'http://127.0.0.1:$other' && grep -q \"not a sked service: GET /scheduler/status is not sked's status JSON\" '$work/said'"
check "https is refused, saying why" \
  bash -c "$(declare -f exits); work=$work; exits 2 '$sked' status https://example.com && grep -q 'only http:// is supported' '$work/said'"
check "a bad port is refused, naming it" \
  bash -c "$(declare -f exits); work=$work; exits 2 '$sked' status http://127.0.0.1:99999 && grep -q 'the port must be a number from 1 to 65535' '$work/said'"
check "status with no URL: usage, exit 2" \
  bash -c "$(declare -f exits); work=$work; exits 2 '$sked' status && grep -q 'status takes one URL' '$work/said'"
check "pause with no job: usage, exit 2" \
  bash -c "$(declare -f exits); work=$work; exits 2 '$sked' pause http://127.0.0.1:1 && grep -q 'pause takes a URL and a JOB' '$work/said'"
finish
