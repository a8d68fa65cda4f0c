#!/usr/bin/env bash
# The alert rules (docs/monitoring/sked-alerts.yml) on a real Prometheus scraping real
# replicas: 2 reward replicas on a real redis-server serve /metrics; Prometheus (Debian
# `prometheus`) scrapes them every second under job="sked" and evaluates the rules every
# second. Healthy, nothing is pending or firing; a pause, Redis dying and a replica dying
# each bring their alert (pending: each waits its `for` before it fires).
#     tests/monitoring/prometheus_scrape.test.sh BUILD_DIR/examples RULES_FILE
set -euo pipefail
bin=$1
rules=$(realpath "$2")
source "$(dirname "$0")/../support/processes.sh"

start_redis
start_reward --replicas 2 --run 90s --tick 1s --work 10ms --redis "127.0.0.1:$redis_port" \
  --http 127.0.0.1:0 --http-token s3cret
first=$(served_by replica-1)
second=$(served_by replica-2)

prom_port=$(free_port)
cat > "$work/prometheus.yml" << EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$rules"]
scrape_configs:
  - job_name: sked
    static_configs:
      - targets: ["$first", "$second"]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$prom_port/api/v1"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$prom_port/-/ready" > /dev/null && break; sleep 0.1; done

# query EXPR: the instant vector as lines "LABELS VALUE", sorted
query() {
  curl -sf --data-urlencode "query=$1" "$api/query" | /usr/bin/python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    labels = ",".join(f"{k}={v}" for k, v in sorted(r["metric"].items()))
    print(labels, r["value"][1])' | sort
}
# alerts: the rules' alerts as lines "NAME STATE instance=I sked_job=J", sorted
alerts() {
  curl -sf "$api/alerts" | /usr/bin/python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    l = a["labels"]
    print(l["alertname"], a["state"], "instance=" + l.get("instance", ""), "sked_job=" + l.get("sked_job", ""))' | sort
}
# eventually SECONDS COMMAND...: the command passes within SECONDS
eventually() {
  local until=$((SECONDS + $1))
  while ((SECONDS < until)); do "${@:2}" && return 0; sleep 0.25; done
  "${@:2}"
}
both_up() { [[ "$(query 'count(up{job="sked"} == 1)')" == " 2" ]]; }
has_alert() { alerts | grep -q "^$1 "; }

check "Prometheus scrapes both replicas" eventually 15 both_up
sleep 3  # a few evaluations of every rule on healthy series
check "a job's series keep the target's job label and their own sked_job (no exported_job)" \
  bash -c "$(declare -f query); api=$api; query 'sked_job_runs_total{outcome=\"succeeded\"}' > '$work/runs';
    test \$(grep -c '^__name__=sked_job_runs_total,instance=127.0.0.1:[0-9]*,job=sked,outcome=succeeded,sked_job=daily_reward ' '$work/runs') = 2 &&
    ! grep -q exported_job '$work/runs'"
check "the job runs: succeeded runs counted across the fleet" \
  bash -c "$(declare -f query); api=$api; test \$(query 'sum(sked_job_runs_total{outcome=\"succeeded\"})' | awk '{print int(\$NF)}') -ge 2"
alerts > "$work/healthy-alerts"
check "healthy: no alert pending or firing" test ! -s "$work/healthy-alerts"
[[ -s "$work/healthy-alerts" ]] && sed 's/^/  | /' "$work/healthy-alerts"
check "the rules were evaluated, with no error" \
  bash -c "curl -sf '$api/rules' | /usr/bin/python3 -c '
import json, sys
rules = [r for g in json.load(sys.stdin)[\"data\"][\"groups\"] for r in g[\"rules\"]]
assert len(rules) == 15 and all(r[\"health\"] == \"ok\" for r in rules), [(r[\"name\"], r.get(\"lastError\")) for r in rules]'"

curl -sf -X POST -H 'Authorization: Bearer s3cret' "http://$first/scheduler/jobs/daily_reward/pause" > /dev/null
check "a pause: SkedJobPausedLong is pending for daily_reward" \
  eventually 10 bash -c "$(declare -f alerts); api=$api; alerts | grep -q '^SkedJobPausedLong pending instance= sked_job=daily_reward$'"

kill "$redis_pid"
# replica-1 has the job paused, so it makes no claim and does not find Redis gone.
check "Redis dies: SkedBackendUnavailable is pending on replica-2, which claims" \
  eventually 15 bash -c "$(declare -f alerts); api=$api; alerts | grep -q '^SkedBackendUnavailable pending instance=$second '"

kill "$service_pid"
wait "$service_pid" 2> /dev/null || true
check "the replicas die: SkedReplicaDown is pending for each" \
  eventually 15 bash -c "$(declare -f alerts); api=$api; test \$(alerts | grep -c '^SkedReplicaDown pending') = 2"
finish
