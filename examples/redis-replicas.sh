#!/usr/bin/env bash
# Three reward processes as replicas on one local Redis, in real time, one of them killed:
#
#     examples/redis-replicas.sh [BUILD_DIR/examples] [SECONDS]
#
# Starts redis-server on a free 127.0.0.1 port, runs 3 `reward` processes with a
# per-second schedule for SECONDS (30), SIGKILLs one while its job is running (whichever
# is running then), restarts it 4 s later, then checks the merged audit files: every slot between the first and the
# last ran exactly once, none was missed, and the slot that died with the killed process
# ran again under a higher fencing token. Exits non-zero when any of that fails.
set -euo pipefail
bin=${1:-"$(cd "$(dirname "$0")/.." && pwd)/build/demo/examples"}
seconds=${2:-30}
reward="$bin/reward"
[[ -x "$reward" ]] || { echo "no $reward: build the examples first (tools/demo.sh does)" >&2; exit 2; }
command -v redis-server > /dev/null || { echo "redis-server not found (apt-get install redis-server)" >&2; exit 2; }

work=$(mktemp -d /tmp/sked-replicas-XXXXXX)
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
replica_pids=()
cleanup() {
  for pid in "${replica_pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  kill "$redis_pid" 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 50); do
  redis-cli -p "$port" ping 2> /dev/null | grep -q PONG && break
  sleep 0.1
done

replica() {  # replica NAME SECONDS: one reward process, appending to NAME's audit file
  "$bin/reward" --redis "127.0.0.1:$port" --prefix replicas --tick 1s --lease 2s --work 300ms \
    --run "$2s" --name "$1" --audit "$work/$1.jsonl" --log "$work/$1.log" > "$work/$1.out" &
  replica_pids+=($!)
}
echo "redis-server on 127.0.0.1:$port; 3 reward replicas for ${seconds}s"
started=$SECONDS
replica p1 "$seconds"
replica p2 "$seconds"
replica p3 "$seconds"

# Kill a replica while its job is running: its log's last line says the job started.
# Whichever it is: which replica wins a slot's claim is a race, and under load one
# replica can win for many seconds in a row.
sleep $((seconds / 3))
source "$(dirname "$0")/running-replica.sh"
running_replica "$work" p1 p2 p3 || { echo "FAIL: no replica started a run to kill" >&2; exit 1; }
victim=${replica_pids[${victim_name#p} - 1]}
kill -9 "$victim"
{ wait "$victim"; } 2> /dev/null || true  # reap it quietly
killed_slot=$(sed -E 's/.* slot=([^ ]+) .*/\1/' <<< "$last")
killed_fence=$(sed -E 's/.* fence=([0-9]+) .*/\1/' <<< "$last")
echo "killed $victim_name (SIGKILL) during slot $killed_slot, fencing token $killed_fence"
sleep 4
left=$((seconds - (SECONDS - started)))
((left >= 5)) || left=5  # the others may have finished: it goes on alone
replica "$victim_name" "$left"
echo "restarted $victim_name for ${left}s"
for pid in "${replica_pids[@]}"; do
  [[ $pid == "$victim" ]] && continue
  wait "$pid" || { echo "FAIL: a replica exited with an error" >&2; exit 1; }
done

# Every slot once, none missed (the killed run never wrote its audit line).
"$bin/reward" --tick 1s --check "$work/p1.jsonl" "$work/p2.jsonl" "$work/p3.jsonl"
rerun=$(cat "$work"/p*.jsonl | grep -F "\"slot\":\"$killed_slot\"" | grep -F '"outcome":"ok"' || true)
[[ $(grep -c . <<< "$rerun") == 1 ]] || { echo "FAIL: slot $killed_slot did not run exactly once more" >&2; exit 1; }
rerun_fence=$(sed -E 's/.*"fencing":([0-9]+).*/\1/' <<< "$rerun")
rerun_by=$(sed -E 's/.*"replica":"([^"]+)".*/\1/' <<< "$rerun")
if ((rerun_fence <= killed_fence)); then
  echo "FAIL: slot $killed_slot re-ran with fencing token $rerun_fence, not above $killed_fence" >&2
  exit 1
fi
echo "slot $killed_slot re-ran on $rerun_by with fencing token $rerun_fence > $killed_fence"
echo "PASS"
