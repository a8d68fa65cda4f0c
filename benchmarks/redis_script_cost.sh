#!/usr/bin/env bash
# The server's work for sked's claim script on 16 new keys against a bare Lua script of
# 16 x SET NX PX, in instructions per EVALSHA: callgrind counts them, where a timed
# ratio moves with the machine's noise (and includes the client). redis-benchmark sends
# both (the claim script with one owner, as claim_many does) to one redis-server under
# callgrind, 2,000 calls each, in turn, ROUNDS times (default 3):
#   benchmarks/redis_script_cost.sh [BUILD_BENCHMARKS]   (default build/rel/benchmarks)
# The counts include the server's timers during each window, so expect a few % of noise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
benchmarks=${1:-$root/build/rel/benchmarks}
rounds=${ROUNDS:-3}
command -v valgrind > /dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
[[ -x $benchmarks/redis_claim_source ]] || { echo "no $benchmarks/redis_claim_source: build it first" >&2; exit 2; }
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" redis-server --port "$port" --bind 127.0.0.1 \
  --save "" --appendonly no --dir "$dir" --daemonize no --logfile "$dir/log" 2> "$dir/valgrind.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping > /dev/null 2>&1; do sleep 0.2; done
bare=$(redis-cli -p "$port" script load \
  "for _, k in ipairs(KEYS) do redis.call('SET', k, 'v', 'NX', 'PX', 60000) end return 0")
claim=$(redis-cli -p "$port" script load "$("$benchmarks/redis_claim_source")")
keys16=() run16=()
for _ in $(seq 16); do keys16+=("b:{__rand_int__}") run16+=("sked:key:{__rand_int__}"); done

# measure COMMAND... -> instructions per EVALSHA the server ran meanwhile
measure() {
  redis-cli -p "$port" config resetstat > /dev/null
  callgrind_control -z "$pid" > /dev/null 2>&1
  "$@" > /dev/null 2>&1
  callgrind_control -d "$pid" > /dev/null 2>&1
  sleep 0.3
  local calls dump
  calls=$(redis-cli -p "$port" info commandstats | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p')
  dump=$(ls -t "$dir"/cg."$pid".* | head -1)
  awk -v calls="$calls" '/^summary:/ {printf "%.0f", $2 / calls}' "$dump"
}
for round in $(seq "$rounds"); do
  b=$(measure redis-benchmark -p "$port" -c 1 -P 1 -n 2000 -r 100000000 EVALSHA "$bare" 16 "${keys16[@]}")
  c=$(measure redis-benchmark -p "$port" -c 1 -P 1 -n 2000 -r 100000000 EVALSHA "$claim" 16 "${run16[@]}" \
    30000 2592000000 0123456789abcdef0123456789abcdef-1)
  echo "round $round: bare 16 x SET NX PX $b instructions a call; the claim script $c; bare / claim $((100 * b / c)) %"
done
