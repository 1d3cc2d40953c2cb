#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and print its URL.
# Usage: eval "$(bash scripts/pg_test_cluster.sh start)"; … ; bash scripts/pg_test_cluster.sh stop
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
DIR=${AGAM_PG_DIR:-/tmp/agam-pg-test}
PORT=${AGAM_PG_PORT:-55432}
case "${1:-start}" in
  start)
    [ -n "$PGBIN" ] || { echo "PostgreSQL server not installed (apt-get install postgresql)" >&2; exit 1; }
    rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres "$DIR"
    su postgres -c "$PGBIN/initdb -D $DIR/data -A trust -U postgres -E UTF8" >/dev/null
    su postgres -c "$PGBIN/pg_ctl -D $DIR/data -l $DIR/log -w -o '-k $DIR -p $PORT -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null
    echo "export AGAM_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    su postgres -c "$PGBIN/pg_ctl -D $DIR/data -m fast stop" >/dev/null || true
    ;;
esac
