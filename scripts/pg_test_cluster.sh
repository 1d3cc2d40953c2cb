#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and print its URL.
# Usage: pgenv=$(bash scripts/pg_test_cluster.sh start); eval "$pgenv"; …; bash scripts/pg_test_cluster.sh stop
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
DIR=${AGAM_PG_DIR:-/tmp/agam-pg-test}
stop() {
  if [ -n "$PGBIN" ] && [ -f "$DIR/data/postmaster.pid" ]; then
    su postgres -c "$PGBIN/pg_ctl -D $DIR/data -m fast -w stop" >/dev/null 2>&1 || true
  fi
}
case "${1:-start}" in
  start)
    [ -n "$PGBIN" ] || { echo "PostgreSQL server not installed (apt-get install postgresql)" >&2; exit 1; }
    stop
    PORT=${AGAM_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres "$DIR"
    su postgres -c "$PGBIN/initdb -D $DIR/data -A trust -U postgres -E UTF8" >/dev/null
    if ! su postgres -c "$PGBIN/pg_ctl -D $DIR/data -l $DIR/log -w -o '-k $DIR -p $PORT -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null; then
      cat "$DIR/log" >&2
      exit 1
    fi
    echo "export AGAM_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    stop
    ;;
esac
