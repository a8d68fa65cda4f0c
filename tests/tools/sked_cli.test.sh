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
check "a bad --from exits 2" 2 "sked: --from 'yesterday' is not an RFC 3339 instant like 2026-11-23T12:00:00Z" -- \
  next --from yesterday "0 0 * * *"
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
echo "$failures failed"
exit $(( failures > 0 ))
