#!/usr/bin/env bash
# docs/operations.md keeps up with the code: it names every log line head and skip word
# (sked/log_hook.hpp), every metric (sked/status_format.hpp) and every alert
# (docs/monitoring/sked-alerts.yml); each run-book section an alert points to is a
# heading; every PromQL line in it parses (promtool check rules).
#     tests/docs/operations.test.sh SOURCE_DIR
set -euo pipefail
root=$1
page="$root/docs/operations.md"
work=$(mktemp -d /tmp/sked-operations-doc-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
missing() {  # missing WHAT NAME: reports NAME, which the page does not have
  echo "FAIL docs/operations.md does not name the $1 '$2'"
  failures=$((failures + 1))
}

# Line heads: {"job started", false}, ... and the skip words "skipped_lock", ...
heads=$(sed -n '/line_heads\[\] = {/,/};/p' "$root/include/sked/log_hook.hpp" | grep -o '{"[^"]*"' | cut -c3- | sed 's/ *"$//; s/"$//')
skips=$(sed -n '/skip_words\[\] = {/,/};/p' "$root/include/sked/log_hook.hpp" | grep -o '"skipped[a-z_]*"' | tr -d '"')
[[ $(echo "$heads" | grep -c .) -ge 9 && $(echo "$skips" | grep -c .) -ge 8 ]] || {
  echo "FAIL could not read the line heads from log_hook.hpp"
  exit 1
}
while read -r head; do
  [[ -z "$head" ]] && continue
  grep -qF "\`$head" "$page" || missing "log line" "$head"
done <<< "$heads"$'\n'"$skips"
for switched in "job paused" "job resumed" "stagger off" "stagger on"; do
  grep -qF "\`$switched" "$page" || missing "log line" "$switched"
done

# Metrics: every family the exposition writes.
metrics=$(grep -oE '(family|each_job|each)\("sked_[a-z_]+"' "$root/include/sked/status_format.hpp" | grep -o 'sked_[a-z_]*' | sort -u)
[[ $(echo "$metrics" | grep -c .) -ge 20 ]] || {
  echo "FAIL could not read the metrics from status_format.hpp"
  exit 1
}
while read -r metric; do
  grep -qF "\`$metric" "$page" || missing "metric" "$metric"
done <<< "$metrics"

# Alerts, and the sections they point to ('Jobs do not run' in docs/operations.md).
while read -r alert; do
  grep -qF "\`$alert\`" "$page" || missing "alert" "$alert"
done < <(grep -o 'alert: [A-Za-z]*' "$root/docs/monitoring/sked-alerts.yml" | cut -d' ' -f2)
while read -r section; do
  grep -qx "### $section" "$page" || missing "section (a heading) an alert points to" "$section"
done < <(grep -o "See '[^']*' in docs/operations.md" "$root/docs/monitoring/sked-alerts.yml" | cut -d"'" -f2 | sort -u)

# Every line of every promql block, as a recording rule promtool must accept.
{
  echo "groups:"
  echo "  - name: operations_md"
  echo "    rules:"
  awk '/^```promql$/ {inside = 1; next} /^```$/ {inside = 0} inside && NF {n++; gsub(/'"'"'/, "'"''"'"); printf "      - record: operations_md_query_%d\n        expr: '"'"'%s'"'"'\n", n, $0}' "$page"
} > "$work/queries.yml"
queries=$(grep -c 'record:' "$work/queries.yml")
if ((queries < 10)); then
  echo "FAIL only $queries PromQL lines found in docs/operations.md"
  failures=$((failures + 1))
elif promtool check rules "$work/queries.yml" > "$work/promtool.out" 2>&1; then
  echo "ok   the $queries PromQL lines parse"
else
  echo "FAIL a PromQL line does not parse:"
  sed 's/^/  | /' "$work/promtool.out"
  failures=$((failures + 1))
fi
echo "$failures failed"
((failures == 0))
