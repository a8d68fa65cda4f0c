#!/usr/bin/env bash
# sked's claims on PostgreSQL against pgbench on the same server, in the same run:
#  - a claim (one round trip, one transaction) against pgbench running a single-row
#    INSERT ... ON CONFLICT DO NOTHING with one client (issue 19's goal: at least 90 %),
#    and against pgbench sending sked's own claim function (what the server's side of a
#    claim costs with a client that adds next to nothing);
#  - claims per second with 1, 8 and 32 connections, pgbench with as many clients beside;
#  - claim_many(16) (16 claims, one round trip);
#  - 10,000 co-due one-offs taken and run by 3 scheduler replicas (postgres_one_offs).
#   benchmarks/postgres_compare.sh [BUILD_DIR] [ROUNDS]     (default build/gcc, 3 rounds)
# Makes its own cluster with initdb (as the user postgres when run as root), starts it on
# a free 127.0.0.1 port with the server's defaults (fsync on), and stops it by pid.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/gcc}
rounds=${2:-3}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
as=()
if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; as=(runuser -u postgres --); fi
"${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U sked > "$dir/initdb.log"
"${as[@]}" "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 \
  -c max_connections=100 > "$dir/log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; do sleep 0.1; done
url="postgresql://sked@127.0.0.1:$port/postgres"
"$bin/psql" -q "$url" -c "CREATE TABLE bench_keys (name text PRIMARY KEY)"
printf '%s\n' '\set id random(1, 2000000000)' \
  "INSERT INTO bench_keys (name) VALUES ('k' || :id) ON CONFLICT DO NOTHING;" > "$dir/insert.sql"
"$build/tools/sked" migrate "$url" bench > /dev/null
printf '%s\n' '\set id random(1, 2000000000)' \
  "SELECT * FROM bench.claim('k', ARRAY['p' || :id], ARRAY['pgbench'], 30000);" > "$dir/claim.sql"

pgbench() {  # pgbench CLIENTS [SCRIPT] -> transactions per second over 3 s
  "$bin/pgbench" -n -c "$1" -j "$1" -T 3 -f "$dir/${2:-insert}.sql" -h 127.0.0.1 -p "$port" -U sked postgres \
    2> /dev/null | awk '/^tps/ {print $3}'
}
ours() {  # ours NAME -> items per second (column 7 of Google Benchmark's CSV)
  SKED_POSTGRES_URL=$url SKED_POSTGRES_SCHEMA=bench "$build/benchmarks/postgres_bench" --benchmark_filter="^$1\$" \
    --benchmark_min_time=3 --benchmark_format=csv 2> /dev/null | awk -F, -v name="\"$1\"" '$1 == name {print $7}'
}
for round in $(seq "$rounds"); do
  p1=$(pgbench 1); q1=$(pgbench 1 claim); c1=$(ours postgres_claim/real_time/threads:1)
  p8=$(pgbench 8); c8=$(ours postgres_claim/real_time/threads:8)
  p32=$(pgbench 32); c32=$(ours postgres_claim/real_time/threads:32)
  m16=$(ours postgres_claim_many_16/real_time)
  /usr/bin/python3 - "$round" "$p1" "$c1" "$p8" "$c8" "$p32" "$c32" "$m16" "$q1" <<'PY'
import sys
r = sys.argv[1]
p1, c1, p8, c8, p32, c32, m16, q1 = map(float, sys.argv[2:10])
print(f"round {r}: 1 connection: pgbench {p1:,.0f}/s, sked claim {c1:,.0f}/s ({100*c1/p1:.0f} %), "
      f"pgbench sending sked's claim {q1:,.0f}/s (sked {100*c1/q1:.0f} % of it); "
      f"8: {p8:,.0f} / {c8:,.0f} ({100*c8/p8:.0f} %); 32: {p32:,.0f} / {c32:,.0f} ({100*c32/p32:.0f} %); "
      f"claim_many(16) {m16:,.0f} claims/s on 1")
PY
done
"$build/benchmarks/postgres_one_offs" "$url" bench_one_offs 10000 3
