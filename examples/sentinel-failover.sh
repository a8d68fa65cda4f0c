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
bash "$(dirname "$0")/failover-fleet.sh" "$bin" "$seconds" "$work" "$master_pid" $((wait_replicas > 0 ? 0 : 3)) \
  --sentinel "$sentinels" --master sked --wait-replicas "$wait_replicas"
echo PASS
