#!/usr/bin/env bash
# The fleet half of examples/sentinel-failover.sh and cluster-failover.sh:
#
#     failover-fleet.sh BIN SECONDS WORK MASTER_PID MAX_DUPLICATES BACKEND_ARGS...
#
# Runs 3 `reward` processes (BIN/reward BACKEND_ARGS ...) with a per-second job 1 s long
# (misfire run_each: a slot the outage delays runs late, it is not dropped) and the
# default lease for SECONDS, SIGKILLs MASTER_PID a fifth of the way in, and checks the
# merged audit files (in WORK). It fails when a slot never ran, more than MAX_DUPLICATES
# ran twice (0 with WAIT; without it, one per process: a claim or completion the master
# acknowledged but did not pass on before it died), the fleet ran nothing for more than
# 6 s after the kill (failure detection, about 1 s here; election and promotion, about
# 1.5 s; one claim retry, 1 s; and room for a loaded machine or a sanitizer build), or a
# fencing token after the kill is not above every one before it. It prints the gap.
set -euo pipefail
bin=$1 seconds=$2 work=$3 master_pid=$4 allowed=$5
shift 5
reward_pids=()
trap 'for pid in "${reward_pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done' EXIT
for name in p1 p2 p3; do
  "$bin/reward" "$@" --prefix failover --tick 1s --work 1s --misfire run_each --run "${seconds}s" --name "$name" \
    --audit "$work/$name.jsonl" --log "$work/$name.log" > "$work/$name.out" &
  reward_pids+=($!)
done
sleep $((seconds / 5))
killed_ms=$(date +%s%3N)
kill -9 "$master_pid"
echo "killed the master (SIGKILL)"
for pid in "${reward_pids[@]}"; do wait "$pid" || { echo "FAIL: a reward process exited with an error" >&2; exit 1; }; done

summary=$("$bin/reward" --tick 1s --check "$work"/p*.jsonl) || true
echo "$summary"
/usr/bin/python3 - "$killed_ms" "$allowed" "$summary" "$work"/p*.jsonl << 'PY'
import datetime
import json
import re
import sys

killed_ms, allowed, summary, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]


def ms(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


runs = [json.loads(line) for f in files for line in open(f) if line.strip()]
before = [r for r in runs if ms(r["started"]) < killed_ms]
after = [r for r in runs if ms(r["started"]) >= killed_ms]
duplicates = int(re.search(r"(\d+) duplicates", summary).group(1))
misses = int(re.search(r"(\d+) misses", summary).group(1))
failures = []
if misses:
    failures.append(f"{misses} slots never ran")
if duplicates > allowed:
    failures.append(f"{duplicates} slots ran twice")
if not before or not after:
    failures.append("no run before or after the kill")
else:
    resumed = min(ms(r["started"]) for r in after) - killed_ms
    print(f"runs: {len(before)} before the kill, {len(after)} after; the first after it started {resumed} ms "
          f"after it; {duplicates} duplicates, {misses} misses")
    if resumed > 6000:
        failures.append(f"the fleet ran nothing for {resumed} ms, more than 6 s")
    if max(r["fencing"] for r in before) >= min(r["fencing"] for r in after):
        failures.append("a fencing token after the failover is not above every one before it")
for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
PY
