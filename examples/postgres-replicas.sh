#!/usr/bin/env bash
# Three reward processes as replicas on one local PostgreSQL, in real time, one killed
# between its writes and COMMIT; the check asks the database:
#
#     examples/postgres-replicas.sh [BUILD_DIR/examples] [SECONDS]
#
# Makes a cluster with initdb (as the user `postgres` when run as root) and starts it on
# a free 127.0.0.1 port; runs 3 `reward --postgres` processes with a per-second schedule
# and the default lease (30 s) for SECONDS (50); SIGKILLs one while its job works (its
# rewards are written, not committed), and restarts it 4 s later. Then, from the tables:
# every player holds exactly one reward per slot, no slot from the first to the last is
# missing or granted to only some players, and the killed run's slot was granted once.
# Exits non-zero when any of that fails.
set -euo pipefail
bin=${1:-"$(cd "$(dirname "$0")/.." && pwd)/build/demo/examples"}
seconds=${2:-50}
[[ -x "$bin/reward" ]] || { echo "no $bin/reward: build the examples first (tools/demo.sh does)" >&2; exit 2; }
work=$(mktemp -d /tmp/sked-pg-replicas-XXXXXX)
source "$(dirname "$0")/local-postgres.sh"
source "$(dirname "$0")/running-replica.sh"
replica_pids=()
cleanup() {
  for pid in "${replica_pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  stop_postgres "$work"
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_postgres "$work"
sql() { psql "$url" -v ON_ERROR_STOP=1 -Atc "$1"; }

replica() {  # replica NAME SECONDS: one reward process, appending to NAME's audit file
  "$bin/reward" --postgres "$url" --prefix rewards --tick 1s --work 300ms --players 100 \
    --run "$2s" --name "$1" --audit "$work/$1.jsonl" --log "$work/$1.log" > "$work/$1.out" &
  replica_pids+=($!)
}
echo "postgres at $url; 3 reward replicas for ${seconds}s, the default lease"
started=$SECONDS
replica p1 "$seconds"
replica p2 "$seconds"
replica p3 "$seconds"

# Kill a replica while its job works: its log's last line says the job started, and the
# grant writes its rows first, then works 300 ms, then commits.
sleep 6
running_replica "$work" p1 p2 p3 || { echo "FAIL: no replica started a run to kill" >&2; exit 1; }
sleep 0.1  # into the work: the rows are written, COMMIT is 200 ms away
victim=${replica_pids[${victim_name#p} - 1]}
kill -9 "$victim"
{ wait "$victim"; } 2> /dev/null || true  # reap it quietly
killed_slot=$(sed -E 's/.* slot=([^ ]+) .*/\1/' <<< "$last")
echo "killed $victim_name (SIGKILL) during slot $killed_slot, before its COMMIT"
sleep 4
left=$((seconds - (SECONDS - started)))
((left >= 5)) || left=5
replica "$victim_name" "$left"
echo "restarted $victim_name for ${left}s"
for pid in "${replica_pids[@]}"; do
  [[ $pid == "$victim" ]] && continue
  wait "$pid" || { echo "FAIL: a replica exited with an error (see its output)" >&2; cat "$work"/p*.out >&2; exit 1; }
done

# The database is the evidence: the rewards table has no unique index.
players=$(sql "SELECT count(*) FROM rewards.players")
twice=$(sql "SELECT count(*) FROM (SELECT 1 FROM rewards.rewards GROUP BY player, slot HAVING count(*) > 1) d")
partial=$(sql "SELECT count(*) FROM (SELECT 1 FROM rewards.rewards GROUP BY slot HAVING count(*) <> $players) p")
slots=$(sql "SELECT count(DISTINCT slot) FROM rewards.rewards")
span=$(sql "SELECT extract(epoch FROM max(slot) - min(slot))::bigint + 1 FROM rewards.rewards")
killed=$(sql "SELECT count(*) FROM rewards.rewards WHERE slot = '$killed_slot'")
echo "database: $players players, $slots slots from the first to the last ($span seconds); $twice granted twice," \
  "$partial slots granted to only some; the killed slot granted to $killed"
((twice == 0)) || { echo "FAIL: a player holds two rewards for one slot" >&2; exit 1; }
((partial == 0)) || { echo "FAIL: a slot was granted to only some players" >&2; exit 1; }
((slots == span)) || { echo "FAIL: $((span - slots)) slots between the first and the last were never granted" >&2; exit 1; }
((killed == players)) || { echo "FAIL: the killed slot $killed_slot was not granted once to every player" >&2; exit 1; }
echo "PASS"
