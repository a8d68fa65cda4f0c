# Sourced by the PostgreSQL scripts: a throwaway PostgreSQL cluster on a free 127.0.0.1 port.
#
#     start_postgres DIR   # sets url (postgresql://sked@127.0.0.1:PORT/postgres); waits until it answers
#     stop_postgres DIR    # fast shutdown of the postmaster started there
#
# initdb makes the cluster in DIR/data (as the user `postgres` when run as root: the
# server refuses to run as root), trusting local connections, without fsync at initdb.
start_postgres() {
  local dir=$1 pg_bin port as_server=()
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)
  [[ -x "$pg_bin/initdb" ]] || { echo "no PostgreSQL server (apt-get install postgresql)" >&2; return 2; }
  chmod 755 "$dir"
  if ((EUID == 0)); then
    mkdir "$dir/data" && chown postgres: "$dir/data"
    as_server=(runuser -u postgres --)
  fi
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${as_server[@]}" "$pg_bin/initdb" -D "$dir/data" -U sked -A trust --no-sync -E UTF8 --locale C > "$dir/initdb.log"
  "${as_server[@]}" "$pg_bin/postgres" -D "$dir/data" -p "$port" -c listen_addresses=127.0.0.1 -k "$dir/data" \
    > "$dir/postgres.log" 2>&1 &
  url="postgresql://sked@127.0.0.1:$port/postgres"
  for _ in $(seq 100); do
    psql "$url" -Atc 'SELECT 1' > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "PostgreSQL did not start on port $port:" >&2
  cat "$dir/postgres.log" >&2
  return 1
}

stop_postgres() {  # the postmaster's pid from its own file (as root, $! would be runuser's)
  local pid
  pid=$(head -n 1 "$1/data/postmaster.pid" 2> /dev/null) || return 0
  kill -INT "$pid" 2> /dev/null || true
  for _ in $(seq 200); do  # up to 10 s, then without the checkpoint
    kill -0 "$pid" 2> /dev/null || return 0
    sleep 0.05
  done
  kill -QUIT "$pid" 2> /dev/null || true
}
