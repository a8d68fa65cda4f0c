#!/usr/bin/env bash
# drop and expiry with --postgres: their stores are tables, written in the run's transaction.
#
#     tests/examples/postgres_stores.test.sh BUILD_DIR/examples
#
# Each example runs 3 replicas for 16 s in real time (2 s slots, the default lease) on one
# PostgreSQL, in a schema of its own; then its own summary (every slot ran once; what the
# tables hold) must pass, and psql must find the same: drops, none twice, no two spawned
# at once; trades swept, one notification per expired trade and none for another.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sked-pg-stores-XXXXXX)
source "$here/../../examples/local-postgres.sh"
cleanup() {
  stop_postgres "$work"
  rm -rf "$work"
}
trap cleanup EXIT
start_postgres "$work"
sql() { psql "$url" -v ON_ERROR_STOP=1 -Atc "$1"; }
fail() {
  echo "FAIL: $*" >&2
  cat "$work"/*.out >&2 2> /dev/null || true
  exit 1
}

# run_example NAME JOB SUMMARY ARGS...: 3 replicas of NAME with --postgres for 16 s of 2 s
# slots; JOB's slots must each have run once and the summary line match SUMMARY; sets s,
# the schema the summary names (one the example made for the run).
run_example() {
  local name=$1 job=$2 summary=$3
  shift 3
  "$bin/$name" --postgres "$url" --replicas 3 --tick 2s --run 16s "$@" > "$work/$name.out" 2> "$work/$name.log" ||
    fail "$name --postgres exited with an error"
  grep -E "^$job: [0-9]+ slots, [0-9]+ executions, 0 duplicates, 0 misses" "$work/$name.out" > /dev/null ||
    fail "$name's slots"
  grep -E "$summary" "$work/$name.out" > /dev/null || fail "$name's summary"
  s=$(sed -En 's/.*in PostgreSQL \(schema ([a-z0-9_]+)\).*/\1/p' "$work/$name.out")
}

run_example drop activity_drop \
  "^drops in PostgreSQL \(schema [a-z0-9_]+\): [0-9]+ spawned; 0 windows dropped twice, 0 pairs spawned at once$" \
  --threshold 1
drops=$(sql "SELECT count(*) FROM $s.drops")
windows=$(sql "SELECT count(DISTINCT drop_window) FROM $s.drops")
overlapping=$(sql "SELECT count(*) FROM $s.drops a JOIN $s.drops b
                   ON a.drop_window < b.drop_window AND a.began < b.done AND b.began < a.done")
echo "drop: $drops drops in $windows windows, $overlapping pairs spawned at once"
((drops >= 3)) || fail "only $drops drops in 16 s of 2 s windows, each busy enough"
((drops == windows)) || fail "a window dropped twice"
((overlapping == 0)) || fail "two drops spawned at once"

run_example expiry trade_expiry \
  "0 trades notified twice; trades: [0-9]+ opened, [0-9]+ accepted, [0-9]+ expired with [0-9]+ notifications; 0 expired early, 0 overdue$"
expired=$(sql "SELECT count(*) FROM $s.trades WHERE state = 'expired'")
notified=$(sql "SELECT count(DISTINCT trade) FROM $s.outbox")
events=$(sql "SELECT count(*) FROM $s.outbox")
wrong=$(sql "SELECT count(*) FROM $s.outbox o JOIN $s.trades t ON t.opened = o.trade WHERE t.state <> 'expired'")
echo "expiry: $expired trades expired, $events notifications for $notified trades, $wrong for a trade not expired"
((expired >= 1)) || fail "no trade expired (the market opened 60 s before the run)"
((events == expired && notified == expired)) || fail "not one notification per expired trade"
((wrong == 0)) || fail "a notification for a trade that did not expire"
echo "PASS"
