#!/usr/bin/env bash
# Claims on sked's Redis backend against redis-benchmark's SET NX PX on the same server,
# in the same run (the goals: claim >= 90 % of -P 1, pipelined claims >= 80 % of -P 16),
# and claim_many(16) against the bound a script sets: a bare Lua script doing nothing but
# 16 x SET NX PX, sent by redis-benchmark at -P 1 (issue 16's goal: at least 80 %).
#   benchmarks/redis_compare.sh [LOCK_BENCH]     (default build/gcc/benchmarks/lock_bench)
# Starts its own redis-server on a free 127.0.0.1 port and stops it by pid.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${1:-$root/build/gcc/benchmarks/lock_bench}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no \
  --logfile "$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
until redis-cli -p "$port" ping > /dev/null 2>&1; do sleep 0.05; done

set_nx() {  # set_nx PIPELINE -> requests per second
  redis-benchmark -p "$port" -c 1 -P "$1" -n 200000 -r 100000000 --csv \
    SET "k:__rand_int__" v NX PX 60000 | tail -1 | cut -d, -f2 | tr -d '"'
}
ours() {  # ours NAME -> items per second (column 7 of Google Benchmark's CSV)
  SKED_REDIS_PORT=$port "$bench" --benchmark_filter="^$1/" --benchmark_min_time=1 --benchmark_format=csv 2> /dev/null \
    | awk -F, -v name="\"$1/real_time\"" '$1 == name {print $7}'
}
bare=$(redis-cli -p "$port" script load \
  "for _, k in ipairs(KEYS) do redis.call('SET', k, 'v', 'NX', 'PX', 60000) end return 0")
keys16=()
for _ in $(seq 16); do keys16+=("b:__rand_int__"); done
script_16() {  # keys (SET NX PX) per second of the bare script, 16 keys a call, -P 1
  redis-benchmark -p "$port" -c 1 -P 1 -n 50000 -r 100000000 --csv EVALSHA "$bare" 16 "${keys16[@]}" \
    | tail -1 | cut -d, -f2 | tr -d '"' | awk '{print $1 * 16}'
}
for round in 1 2 3 4 5; do
  p1=$(set_nx 1); c1=$(ours redis_claim)
  p16=$(set_nx 16); c16=$(ours redis_claim_pipelined_16)
  s16=$(script_16)
  /usr/bin/python3 - "$p1" "$c1" "$p16" "$c16" "$s16" "$round" <<'PY'
import sys
p1, c1, p16, c16, s16 = map(float, sys.argv[1:6])
print(f"round {sys.argv[6]}: SET NX PX -P 1 {p1:,.0f}/s, sked claim {c1:,.0f}/s ({100*c1/p1:.0f} %); "
      f"-P 16 {p16:,.0f}/s, sked claim_many(16) {c16:,.0f}/s ({100*c16/p16:.0f} %); "
      f"bare script of 16 SET NX PX {s16:,.0f} keys/s, claim_many(16) {100*c16/s16:.0f} % of it")
PY
done
