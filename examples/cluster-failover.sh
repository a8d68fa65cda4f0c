#!/usr/bin/env bash
# Three reward processes on a Redis Cluster, in real time, while a master dies:
#
#     examples/cluster-failover.sh [BUILD_DIR/examples] [SECONDS]
#
# Starts 3 masters and a replica of each on free 127.0.0.1 ports (cluster-node-timeout
# 1 s: a master unseen that long is failed over), runs 3 `reward` processes with a
# per-second job 1 s long (misfire run_each: a slot the outage delays runs late, it is
# not dropped) and the default lease for SECONDS (45), and SIGKILLs the master of the
# job's slot record a fifth of the way in. Each second's run key has a slot of its own,
# so a third of the claims go to that master. Then it checks the merged audit files: no
# slot missed; at most one slot twice per process (a claim or completion the master
# acknowledged but did not pass on before it died: there is no WAIT here, because the
# promoted replica has no replica left to wait for); every fencing token after the
# failover above every one before it; and the fleet ran nothing for at most 6 s (it
# prints how long).
set -euo pipefail
bin=${1:-"$(cd "$(dirname "$0")/.." && pwd)/build/demo/examples"}
seconds=${2:-45}
[[ -x "$bin/reward" ]] || { echo "no $bin/reward: build the examples first (tools/demo.sh does)" >&2; exit 2; }

work=$(mktemp -d /tmp/sked-cluster-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  [[ -n "${SKED_KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
# A free port whose cluster bus port (10,000 above) is free too.
free_port() {
  /usr/bin/python3 -c '
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    if port > 55535: continue
    b = socket.socket()
    try: b.bind(("127.0.0.1", port + 10000))
    except OSError: continue
    print(port); break'
}

ports=()
declare -A node_pid
for i in 1 2 3 4 5 6; do
  port=$(free_port)
  mkdir "$work/node$i"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work/node$i" \
    --logfile "$work/node$i.log" --cluster-enabled yes --cluster-node-timeout 1000 &
  pids+=($!)
  node_pid[$port]=$!
  ports+=("$port")
done
for port in "${ports[@]}"; do
  for _ in $(seq 100); do redis-cli -p "$port" ping > /dev/null 2>&1 && break; sleep 0.05; done
done
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 1 --cluster-yes > "$work/create.log"
healthy() {  # every node says cluster_state:ok, every replica has synced
  for port in "${ports[@]}"; do
    redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' || return 1
    local info
    info=$(redis-cli -p "$port" info replication)
    [[ $info == *role:master* || $info == *master_link_status:up* ]] || return 1
  done
}
for _ in $(seq 300); do healthy && break; sleep 0.1; done
healthy || { echo "FAIL: the cluster did not come up within 30 s" >&2; exit 1; }
nodes=$(printf '127.0.0.1:%s,' "${ports[@]:0:3}")
nodes=${nodes%,}

# The master of the job's slot record, "failover:slot:{daily_reward}".
slot=$(redis-cli -p "${ports[0]}" cluster keyslot 'failover:slot:{daily_reward}')
victim=$(redis-cli -p "${ports[0]}" cluster nodes | /usr/bin/python3 -c '
import sys
slot = int(sys.argv[1])
for line in sys.stdin:
    f = line.split()
    if "master" not in f[2].split(","): continue
    for r in f[8:]:
        a, _, b = r.partition("-")
        if not r.startswith("[") and int(a) <= slot <= int(b or a): print(f[1].split("@")[0].split(":")[1])
' "$slot")

echo "cluster ${ports[*]}; the master of slot $slot is 127.0.0.1:$victim; 3 reward processes for ${seconds}s"
bash "$(dirname "$0")/failover-fleet.sh" "$bin" "$seconds" "$work" "${node_pid[$victim]}" 3 --redis-cluster "$nodes"
echo PASS
