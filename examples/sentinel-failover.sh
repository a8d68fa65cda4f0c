#!/usr/bin/env bash
# Three reward processes on Redis behind Sentinel, in real time, while the master dies:
#
#     examples/sentinel-failover.sh [BUILD_DIR/examples] [SECONDS] [REPLICAS] [WAIT]
#
# Starts a master, REPLICAS (1) replicas and 3 sentinels on free 127.0.0.1 ports (a master
# unseen for 1 s is down), runs 3 `reward` processes with a per-second job 1 s long
# (misfire run_each: a slot the outage delays runs late, it is not dropped) and the
# default lease for SECONDS (45), --wait-replicas WAIT (0), and SIGKILLs the master a
# fifth of the way in. Then it checks the merged audit files: no slot missed; no slot
# twice with WAIT (without it, at most one per process: a claim or completion the master
# acknowledged but did not pass on before it died); every fencing token after the
# failover above every one before it; and the fleet ran nothing for at most 6 s (it
# prints how long).
set -euo pipefail
bin=${1:-"$(cd "$(dirname "$0")/.." && pwd)/build/demo/examples"}
seconds=${2:-45}
replicas=${3:-1}
wait_replicas=${4:-0}
[[ -x "$bin/reward" ]] || { echo "no $bin/reward: build the examples first (tools/demo.sh does)" >&2; exit 2; }
command -v redis-sentinel > /dev/null || { echo "redis-sentinel not found (apt-get install redis-sentinel)" >&2; exit 2; }

work=$(mktemp -d /tmp/sked-sentinel-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  [[ -n "${SKED_KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
server() {  # server NAME PORT ARGS...: a redis-server in the background, its pid in pids
  redis-server "${@:3}" --port "$2" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --logfile "$work/$1.log" &
  pids+=($!)
}

master_port=$(free_port)
server master "$master_port"
master_pid=${pids[-1]}
for i in $(seq "$replicas"); do server "replica$i" "$(free_port)" --replicaof 127.0.0.1 "$master_port"; done
sentinels=""
for i in 1 2 3; do
  port=$(free_port)
  printf 'sentinel monitor sked 127.0.0.1 %s 2\nsentinel down-after-milliseconds sked 1000\nsentinel failover-timeout sked 4000\n' \
    "$master_port" > "$work/sentinel$i.conf"
  server "sentinel$i" "$port" "$work/sentinel$i.conf" --sentinel
  sentinels+="${sentinels:+,}127.0.0.1:$port"
done
watched() {  # the replicas are in sync, each sentinel knows them and the 2 other sentinels
  [[ $(redis-cli -p "$master_port" info replication | grep -c 'state=online') == "$replicas" ]] || return 1
  for s in ${sentinels//,/ }; do
    local fields
    fields=$(redis-cli -p "${s##*:}" sentinel master sked 2> /dev/null | paste -sd' ') || return 1
    [[ $fields == *"num-slaves $replicas "* && $fields == *"num-other-sentinels 2 "* ]] || return 1
  done
}
for _ in $(seq 200); do watched && break; sleep 0.1; done
watched || { echo "FAIL: the sentinels did not find each other and the replicas within 20 s" >&2; exit 1; }

echo "master 127.0.0.1:$master_port, $replicas replica(s), sentinels $sentinels; 3 reward processes for ${seconds}s, --wait-replicas $wait_replicas"
for name in p1 p2 p3; do
  "$bin/reward" --sentinel "$sentinels" --master sked --wait-replicas "$wait_replicas" --prefix failover \
    --tick 1s --work 1s --misfire run_each --run "${seconds}s" --name "$name" \
    --audit "$work/$name.jsonl" --log "$work/$name.log" > "$work/$name.out" &
  pids+=($!)
done
reward_pids=("${pids[@]: -3}")
sleep $((seconds / 5))
killed_ms=$(date +%s%3N)
kill -9 "$master_pid"
echo "killed the master (SIGKILL)"
for pid in "${reward_pids[@]}"; do wait "$pid" || { echo "FAIL: a reward process exited with an error" >&2; exit 1; }; done

summary=$("$bin/reward" --tick 1s --check "$work"/p*.jsonl) || true
echo "$summary"
/usr/bin/python3 - "$killed_ms" "$wait_replicas" "$summary" "$work"/p*.jsonl << 'PY'
import datetime, json, re, sys
killed_ms, wait, summary, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
ms = lambda t: int(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
runs = [json.loads(line) for f in files for line in open(f) if line.strip()]
before = [r for r in runs if ms(r["started"]) < killed_ms]
after = [r for r in runs if ms(r["started"]) >= killed_ms]
duplicates = int(re.search(r"(\d+) duplicates", summary).group(1))
misses = int(re.search(r"(\d+) misses", summary).group(1))
failures = []
if misses: failures.append(f"{misses} slots never ran")
if duplicates > (0 if wait else 3): failures.append(f"{duplicates} slots ran twice")
if not before or not after: failures.append("no run before or after the kill")
else:
    resumed = min(ms(r["started"]) for r in after) - killed_ms
    print(f"runs: {len(before)} before the kill, {len(after)} after; the first after it started {resumed} ms after it; "
          f"{duplicates} duplicates, {misses} misses")
    # down-after-milliseconds (1 s), the sentinels' election and promotion (about 1.5 s),
    # one claim retry (1 s): 3.5 s, and room for a loaded machine or a sanitizer build.
    if resumed > 6000: failures.append(f"the fleet ran nothing for {resumed} ms, more than 6 s")
    if max(r["fencing"] for r in before) >= min(r["fencing"] for r in after):
        failures.append("a fencing token after the failover is not above every one before it")
for f in failures: print("FAIL:", f)
sys.exit(1 if failures else 0)
PY
echo PASS
