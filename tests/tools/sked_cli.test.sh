#!/usr/bin/env bash
# The sked tool: output format, zones, errors and exit codes.
set -u
sked=$1
failures=0
check() {  # check NAME EXPECTED_EXIT EXPECTED_OUTPUT -- ARGS...
  local name=$1 want_exit=$2 want=$3; shift 4
  local got exit
  got=$("$sked" "$@" 2>&1); exit=$?
  if [[ "$got" != "$want" || $exit != "$want_exit" ]]; then
    printf 'FAIL %s\n  want (exit %s):\n%s\n  got (exit %s):\n%s\n' "$name" "$want_exit" "$want" "$exit" "$got"
    failures=$((failures + 1))
  else
    printf 'ok   %s\n' "$name"
  fi
}
check "next in a zone prints RFC 3339 with the offset" 0 $'2026-11-24T00:00:00+08:00\n2026-11-25T00:00:00+08:00' -- \
  next --tz Asia/Manila --from 2026-11-23T12:00:00Z -n 2 "0 0 * * *"
check "next in UTC prints Z" 0 $'2026-11-23T12:05:00Z' -- next --from 2026-11-23T12:00:00Z "*/5 * * * *"
check "CRON_TZ prefix picks the zone" 0 $'2026-03-08T03:00:00-04:00' -- \
  next --from 2026-03-08T00:00:00Z "CRON_TZ=America/New_York 30 2 * * *"
check "--tz overrides CRON_TZ" 0 $'2026-03-08T02:30:00Z' -- \
  next --tz UTC --from 2026-03-08T00:00:00Z "CRON_TZ=America/New_York 30 2 * * *"
check "fixed offsets" 0 $'2026-11-24T00:00:00+05:30' -- next --tz +05:30 --from 2026-11-23T12:00:00Z "0 0 * * *"
check "--from with an offset" 0 $'2026-11-24T00:00:00Z' -- next --from 2026-11-23T22:00:00-01:00 "0 0 * * *"
check "H needs --name" 2 $'sked: column 1 (minute): \'H\' needs a job name to hash (parse_options::job_name)\n  H * * * *\n  ^' -- next "H * * * *"
check "a bad expression names the column, exits 2" 2 $'sked: column 5 (day-of-month): 32 is out of range 1-31\n  0 0 32 * *\n      ^' -- \
  next "0 0 32 * *"
check "an unknown zone exits 2" 2 "sked: unknown time zone 'Mars/Base'" -- next --tz Mars/Base "0 0 * * *"
check "a bad --from exits 2, naming the column" 2 \
  "sked: --from 'yesterday': expected a four-digit year at column 1 (an RFC 3339 instant like 2026-11-23T12:00:00Z)" -- \
  next --from yesterday "0 0 * * *"
check "--from past the year 9999 is refused, saying why" 2 \
  "sked: --from '10000-01-01T00:00:00Z': expected '-' after the year at column 5 (an RFC 3339 instant like 2026-11-23T12:00:00Z)" -- \
  next --from 10000-01-01T00:00:00Z "* * * * *"
check "next stops before the year 10000, which RFC 3339 cannot write" 1 \
  "sked: no occurrence after 9999-12-31T23:59:59Z before the year 10000" -- next --from 9999-12-31T23:59:59Z "* * * * *"
check "no occurrence left exits 1" 1 "sked: no occurrence after 2030-01-01T00:00:00Z" -- \
  next --from 2030-01-01T00:00:00Z "0 0 0 1 1 * 2027"
check "explain" 0 "At 09:30 on the last Friday of every month" -- explain "30 9 * * 5L"
matches() {  # matches NAME REGEX -- ARGS...: exit 0 and output matching REGEX
  local name=$1 regex=$2; shift 3
  local got
  if got=$("$sked" "$@" 2>&1) && [[ "$got" =~ $regex ]]; then printf 'ok   %s\n' "$name"
  else printf 'FAIL %s: got %s\n' "$name" "$got"; failures=$((failures + 1)); fi
}
matches "explain with a job name hashes H to a fixed time" '^At [0-2][0-9]:[0-5][0-9] every day$' -- \
  explain --name reward "H H * * *"
matches "the default start is now" '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$' -- next "@every 100d"

# ---- sked check / sked plan -------------------------------------------------------------
jobs=$(dirname "$0")/jobs
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
check "plan: the sports table from 8 at once to 1, as JSON" 0 \
  '{"jobs":[{"name":"odds_refresh","period_s":60,"offset_s":45,"duration_s":1},{"name":"live_scores","period_s":60,"offset_s":15,"duration_s":1},{"name":"injury_feed","period_s":60,"offset_s":30,"duration_s":1},{"name":"bet_settle","period_s":60,"offset_s":0,"duration_s":1},{"name":"standings","period_s":300,"offset_s":187,"duration_s":1},{"name":"player_stats","period_s":300,"offset_s":37,"duration_s":1},{"name":"league_tables","period_s":600,"offset_s":412,"duration_s":1},{"name":"archive_sync","period_s":600,"offset_s":112,"duration_s":1}],"peak":1,"peak_unstaggered":8,"lower_bound":1}' \
  -- plan --json "$jobs/sports.jobs"
matches "plan: the table and the summary line" $'NAME +PERIOD +OFFSET +DURATION.*\nodds_refresh +1m +45s +1s.*\nleague_tables +10m +6m52s +1s.*peak concurrency: 1 \\(unstaggered: 8, lower bound: 1\\)$' -- \
  plan "$jobs/sports.jobs"
matches "plan --within keeps offsets in the first 20 s" '"offset_s":(1?[0-9])[,}].*"peak":1,' -- \
  plan --json --within 20s "$jobs/sports.jobs"
got=$("$sked" check "$jobs/sports.jobs" 2>&1); exit=$?
if [[ $exit == 1 && "$got" == "collision: odds_refresh and live_scores start in the same second"* \
      && "$got" == *$'\nwarning: 4 jobs start at second 0 of every 60 s; run `sked plan`\n'* \
      && "$got" == *$'\npeak concurrency: 8 at 0s into the 10m cycle\n8 jobs, 28 colliding pairs' ]]; then
  printf 'ok   %s\n' "check: a colliding table exits 1 and lists each pair"
else
  printf 'FAIL check exit %s: %s\n' "$exit" "$got"; failures=$((failures + 1))
fi
printf 'a @every 1m duration=10s\nb @every 1m offset=5s\nc @every 2m offset=5s\n' > "$scratch/overlap.jobs"
check "check: overlapping runs, and where the peak is" 1 $'collision: a and b run at the same time\ncollision: a and c run at the same time\ncollision: b and c start in the same second\npeak concurrency: 3 at 5s into the 2m cycle\n3 jobs, 3 colliding pairs' -- \
  check "$scratch/overlap.jobs"
printf '\xef\xbb\xbfsweep @every 1m\n' > "$scratch/bom.jobs"
check "check: a UTF-8 byte order mark is not part of the first name" 0 $'peak concurrency: 1 over the 1m cycle\n1 jobs, 0 colliding pairs' -- \
  check "$scratch/bom.jobs"
for i in $(seq 1 30); do echo "job_$i @every 1m"; done > "$scratch/crowded.jobs"
want=$(for i in $(seq 2 21); do echo "collision: job_1 and job_$i start in the same second"; done)
check "check: lists 20 pairs, then counts the rest" 1 "$want"$'\n... and 415 more colliding pairs (--all lists every one)\nwarning: 30 jobs start at second 0 of every 60 s; run `sked plan`\npeak concurrency: 30 at 0s into the 1m cycle\n30 jobs, 435 colliding pairs' -- check "$scratch/crowded.jobs"
listed=$("$sked" check --all "$scratch/crowded.jobs" | grep -c '^collision:')
if [[ $listed == 435 ]]; then echo "ok   check --all lists all 435 pairs"
else echo "FAIL check --all listed $listed pairs, not 435"; failures=$((failures + 1)); fi
check "check: a directory is not a job file" 2 "sked: $scratch is a directory; expected a job file" -- check "$scratch"
check "check: options of plan are refused" 2 "$(printf '%s\n' "$("$sked" --help)")"$'\nsked: unknown option --json for check' -- \
  check --json "$jobs/sports.jobs"
cat > "$scratch/to_jobs.py" <<'PY'
import json, sys
for job in json.load(sys.stdin)["jobs"]:
    print("{0} @every {1}s offset={2}s".format(job["name"], job["period_s"], job["offset_s"]))
PY
"$sked" plan --json "$jobs/sports.jobs" | /usr/bin/python3 "$scratch/to_jobs.py" > "$scratch/replanned.jobs"
check "check: the planned table passes" 0 $'peak concurrency: 1 over the 10m cycle\n8 jobs, 0 colliding pairs' -- \
  check "$scratch/replanned.jobs"
check "check: cron jobs, comments and pins" 0 $'peak concurrency: 1 over the 168h cycle\n4 jobs, 0 colliding pairs' -- \
  check "$jobs/planned.jobs"
bad() {  # bad NAME LINE EXPECTED: a one-line job file that must be refused with FILE:1:COL
  printf '%s\n' "$2" > "$scratch/bad.jobs"
  check "$1" 2 "$scratch/bad.jobs:$3" -- check "$scratch/bad.jobs"
}
bad "a bad duration names the column" 'sweep @every 1m duration=3x' '1:26: expected a duration like 45s, 5m or 1m30s'
bad "no schedule" 'sweep every minute' '1:7: expected a schedule: @every DUR, or a cron expression in double quotes'
bad "a bad cron column is the column in the file" 'sweep "0 0 32 * *"' '1:12: column 5 (day-of-month): 32 is out of range 1-31'
bad "an unterminated quote" 'sweep "0 0 * * *' '1:7: the cron expression'"'"'s closing quote is missing'
bad "an offset outside the period" 'sweep @every 1m offset=75s' '1:24: offset 75 s is not within the period (60 s)'
bad "a duration longer than the period" 'sweep @every 1m duration=2m' '1:1: duration 120 s is longer than the period (60 s)'
bad "an unknown option" 'sweep @every 1m fast' '1:17: expected duration=DUR, offset=DUR or pinned, not '"'"'fast'"'"''
bad "an offset on a cron job" 'nightly "0 0 * * *" offset=5s' \
  '1:21: a cron job'"'"'s time comes from its expression; offset= is for @every jobs'
bad "a cron job that fires every second" 'busy "* * * * * *"' '1:6: the cron expression fires more than once a minute, or never in a week; use @every for frequent jobs'
printf 'a @every 1m\na @every 5m\n' > "$scratch/twice.jobs"
check "a job defined twice" 2 "$scratch/twice.jobs:2:1: job 'a' is already defined on line 1" -- check "$scratch/twice.jobs"
check "a missing file" 2 "sked: cannot read $scratch/none.jobs" -- check "$scratch/none.jobs"
"$sked" plan --svg "$scratch/plan.svg" --window 10m "$jobs/sports.jobs" > /dev/null
if grep -q "<title>0:00-0:01: 1 running: bet_settle</title>" "$scratch/plan.svg" \
   && grep -q "Unstaggered (every job at offset 0) — peak 8 at once" "$scratch/plan.svg" \
   && /usr/bin/python3 -c "import xml.dom.minidom, sys; xml.dom.minidom.parse(sys.argv[1])" "$scratch/plan.svg"; then
  printf 'ok   %s\n' "plan --svg writes well-formed SVG with both panels and hover titles"
else
  printf 'FAIL %s\n' "plan --svg"; failures=$((failures + 1))
fi

echo "$failures failed"
exit $(( failures > 0 ))
