#!/usr/bin/env bash
# The cron side of sked: builds the sked tool and shows it at work: next occurrences in zones and across a DST
# change, English explanations, and a clear error for a bad expression.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ "${SKED_SKIP_INSTALL:-0}" != 1 ]]; then "$root/tools/install-deps.sh" --demo; fi
cmake -S "$root" -B "$root/build/demo" -DCMAKE_BUILD_TYPE=Release -DSKED_BUILD_TESTS=OFF -DSKED_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build "$root/build/demo" --target sked_tool -j "$(nproc)" > /dev/null
sked="$root/build/demo/tools/sked"

show() {  # prints the command with its expression quoted, then runs it
  printf '\n$ sked %s "%s"\n' "${*:1:$#-1}" "${!#}"
  "$sked" "$@" 2>&1 || true
}
show next --tz Asia/Manila --from 2026-11-23T12:00:00Z -n 3 "0 0 * * *"
show next --tz America/New_York --from 2026-03-07T00:00:00Z -n 3 "30 2 * * *"
show next --tz America/Santiago --from 2026-09-04T12:00:00Z -n 3 "@daily"
show next --from 2026-11-23T12:00:00Z -n 4 "*/15 * * * * *"
show next --from 2026-11-01T00:00:00Z -n 3 "0 15 10 * * 5#3"
show next --name daily_reward --from 2026-11-23T12:00:00Z -n 2 "H H * * *"
show explain "30 9 * * 5L"
show explain "0 12 * * MON-FRI"
show explain "CRON_TZ=Asia/Manila 0 0 1 JAN,JUL *"
show next "0 0 32 * *"

# Stagger: eight jobs that all fire at :00, checked and then planned.
printf '\n$ cat tests/tools/jobs/sports.jobs\n'
cat "$root/tests/tools/jobs/sports.jobs"
printf '\n$ sked check tests/tools/jobs/sports.jobs | tail -4\n'
"$sked" check "$root/tests/tools/jobs/sports.jobs" | tail -4 || true
printf '\n$ sked plan tests/tools/jobs/sports.jobs\n'
"$sked" plan "$root/tests/tools/jobs/sports.jobs"
