# Throwaway PostgreSQL cluster for the tests: sourced by .ci/run, usable by hand too:
#   source .ci/postgres.sh && postgres_start   (exports PARLEY_TEST_POSTGRES_URL)
#   postgres_stop
# Installs PostgreSQL from Debian's packages when missing; runs the server as a non-root user on 127.0.0.1.

postgres_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

postgres_start() {
  if [ -z "$(postgres_bin)" ]; then
    echo "Installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q postgresql
  fi
  local bin run_as
  bin="$(postgres_bin)"
  run_as=""
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    run_as="postgres"
  fi
  PARLEY_PG_DIR="$(mktemp -d /tmp/parley-pg.XXXXXX)"
  export PARLEY_PG_DIR
  [ -n "$run_as" ] && chown "$run_as" "$PARLEY_PG_DIR"
  PARLEY_PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  export PARLEY_PG_PORT
  _pg() { if [ -n "$run_as" ]; then su "$run_as" -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
  _pg "'$bin/initdb' -D '$PARLEY_PG_DIR/data' -U parley -A trust --no-sync -E UTF8" >/dev/null
  _pg "'$bin/pg_ctl' -D '$PARLEY_PG_DIR/data' -l '$PARLEY_PG_DIR/server.log' -w -o \"-h 127.0.0.1 -p $PARLEY_PG_PORT -k '$PARLEY_PG_DIR' -c fsync=off -c max_connections=200\" start" >/dev/null
  "$bin/createdb" -h 127.0.0.1 -p "$PARLEY_PG_PORT" -U parley parley
  export PARLEY_TEST_POSTGRES_URL="jdbc:postgresql://127.0.0.1:$PARLEY_PG_PORT/parley?user=parley"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') running on 127.0.0.1:$PARLEY_PG_PORT"
}

postgres_stop() {
  [ -n "${PARLEY_PG_DIR:-}" ] || return 0
  local bin
  bin="$(postgres_bin)"
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "'$bin/pg_ctl' -D '$PARLEY_PG_DIR/data' -m fast -w stop" >/dev/null 2>&1 || true
  else
    "$bin/pg_ctl" -D "$PARLEY_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PARLEY_PG_DIR"
  unset PARLEY_PG_DIR
}
