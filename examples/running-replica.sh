# Sourced by the replica scripts: which replica is running its job now.
#
#     running_replica DIR p1 p2 p3   # sets victim_name and last (its log's last line)
#
# A replica is running its job when its log's last line says the job started. Which
# replica wins a slot's claim is a race, and under load one can win many seconds in a
# row, so any of them may be the one. Waits up to 15 s; returns 1 when none started.
running_replica() {
  local dir=$1 name
  shift
  victim_name=""
  last=""
  for _ in $(seq 1500); do
    for name in "$@"; do
      last=$(tail -n 1 "$dir/$name.log" 2> /dev/null || true)
      if [[ "$last" == *"job started"* ]]; then
        victim_name=$name
        return 0
      fi
    done
    sleep 0.01
  done
  return 1
}
