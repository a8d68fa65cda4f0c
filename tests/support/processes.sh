# tests/support/processes.sh — what the shell tests of real processes share: a temp dir
# and the processes they start, both gone at exit; a check that counts failures; a free
# loopback port; a redis-server of their own. Source it:
#     source "$(dirname "$0")/../support/processes.sh"
# It sets $work and $failures, and traps EXIT; end with `finish`.
work=$(mktemp -d "/tmp/sked-$(basename "$0" .test.sh)-XXXXXX")
pids=()
failures=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done  # they may still write into $work
  rm -rf "$work"
}
trap cleanup EXIT

check() {  # check WHAT COMMAND...: passes when the command does
  if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}
finish() {  # the summary line, and the exit status
  echo "$failures failed"
  ((failures == 0))
}
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_redis() {  # start_redis: a redis-server on 127.0.0.1:$redis_port, its pid in $redis_pid
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --logfile "$work/redis.log" &
  redis_pid=$!
  pids+=("$redis_pid")
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping 2> /dev/null | grep -q PONG && break; sleep 0.1; done
}

start_reward() {  # start_reward ARGS...: $bin/reward with ARGS, logging to $work/log; its pid in $service_pid
  "$bin/reward" "$@" > "$work/out" 2> "$work/log" &
  service_pid=$!
  pids+=("$service_pid")
}
served_by() {  # served_by REPLICA: its HOST:PORT, waiting up to 5 s for its line in $work/log
  for _ in $(seq 100); do grep -q "$1 serves" "$work/log" && break; sleep 0.05; done
  grep -o "$1 serves http://[0-9.:]*" "$work/log" | sed 's/.*http:\/\///'
}
