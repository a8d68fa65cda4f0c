#!/usr/bin/env bash
# Durable one-offs on sked's Redis backend beside the physical bounds, in the same run on
# the same server: creating one (one round trip) against redis-benchmark's ZADD at -c 1
# -P 1 (the goal: at least 90 %) and against a bare EVALSHA that does nothing (what any
# script costs); then Redis's memory per pending one-off, and 10,000 co-due one-offs on
# 3 replicas.
#   benchmarks/one_off_compare.sh [BUILD_DIR]      (default build/gcc)
# Starts its own redis-server on a free 127.0.0.1 port and stops it by pid. With
# SKED_PIN_CPU=N the server and every client run on CPU N only: on a VM, a round trip
# between two idle vCPUs costs a wake-up of the other vCPU, which meets each client
# differently; on one CPU both pay the same.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/gcc}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
pin=()
[[ -n "${SKED_PIN_CPU:-}" ]] && pin=(taskset -c "$SKED_PIN_CPU")
"${pin[@]}" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no \
  --logfile "$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping > /dev/null 2>&1; do sleep 0.05; done
noop=$(redis-cli -p "$port" script load "return 0")

bench() {  # bench ARGS... -> requests per second at -c 1 -P 1
  "${pin[@]}" redis-benchmark -p "$port" -c 1 -P 1 -n 50000 -r 100000000 --csv "$@" | tail -1 | cut -d, -f2 | tr -d '"'
}
ours() {  # items per second of lock_bench's redis_create_one_off
  SKED_REDIS_PORT=$port "${pin[@]}" "$build/benchmarks/lock_bench" --benchmark_filter='^redis_create_one_off/' \
    --benchmark_min_time=1 --benchmark_format=csv 2> /dev/null |
    awk -F, '$1 == "\"redis_create_one_off/real_time\"" {print $7}'
}
for round in 1 2 3 4 5; do
  zadd=$(bench ZADD "due:{k}" __rand_int__ "m:__rand_int__")
  script=$(bench EVALSHA "$noop" 0)
  create=$(ours)
  /usr/bin/python3 - "$zadd" "$script" "$create" "$round" <<'PY'
import sys
zadd, script, create = map(float, sys.argv[1:4])
print(f"round {sys.argv[4]}: ZADD -P 1 {zadd:,.0f}/s, EVALSHA 'return 0' {script:,.0f}/s, "
      f"sked create {create:,.0f}/s = {100*create/zadd:.0f} % of ZADD, {100*create/script:.0f} % of the empty script")
PY
done
redis-cli -p "$port" flushall > /dev/null
SKED_REDIS_PORT=$port "$build/benchmarks/one_off_load" memory 1000000
SKED_REDIS_PORT=$port "$build/benchmarks/one_off_load" dispatch 10000 3
