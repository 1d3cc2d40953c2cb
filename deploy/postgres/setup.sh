#!/usr/bin/env bash
# Agam's PostgreSQL database, schema `agam` and its roles (least privilege, docs/operations.md):
#   owner  (AGAM_OWNER, default agam_owner): owns the schema; only `agam db upgrade` uses it.
#   app    (AGAM_APP, default agam_app): what the scheduler, dashboard and CLI connect as -
#          rows only, table by table (grants.sql): history insert-only, no DDL, no TRUNCATE,
#          cannot switch the database guards off.
#   reader (AGAM_READER, default agam_readonly; AGAM_READER= for none): committee reporting,
#          read-only, no personal data.
#
#   sudo -u postgres bash deploy/postgres/setup.sh          # roles, database, schema
#   AGAM_DATABASE_URL=postgresql+psycopg://agam_owner@/agam agam db upgrade
#   sudo -u postgres bash deploy/postgres/setup.sh grants   # after every upgrade
#
# Passwords: set them with \password in psql (or use peer/cert authentication); they are
# never written here. ADMIN_URL (default: the local socket as the current user) is the
# superuser connection the script uses.
set -euo pipefail
DB=${AGAM_DB:-agam}
OWNER=${AGAM_OWNER:-agam_owner}
APP=${AGAM_APP:-agam_app}
READER=${AGAM_READER-agam_readonly}
ADMIN_URL=${ADMIN_URL:-postgres}
HERE=$(cd "$(dirname "$0")" && pwd)
ROLES=(-v owner="$OWNER" -v app="$APP")
if [ -n "$READER" ]; then ROLES+=(-v reader="$READER"); fi
psql_admin() { psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -q "$@"; }
# The same server, database $DB: swap the URL's database (or use dbname= for a plain name).
in_db() {
  case "$ADMIN_URL" in
    *://*) psql "${ADMIN_URL%/*}/$DB" -v ON_ERROR_STOP=1 -q "$@" ;;
    *) psql "dbname=$DB" -v ON_ERROR_STOP=1 -q "$@" ;;
  esac
}

case "${1:-setup}" in
  setup)
    psql_admin -v db="$DB" "${ROLES[@]}" -f "$HERE/roles.sql"
    in_db "${ROLES[@]}" -f "$HERE/schema.sql"
    echo "database $DB ready: run 'agam db upgrade' as $OWNER, then '$0 grants'"
    ;;
  grants)
    in_db "${ROLES[@]}" -f "$HERE/grants.sql"
    echo "privileges of $APP${READER:+ and $READER} on $DB set, every table classified"
    ;;
  *)
    echo "usage: $0 [setup|grants]" >&2
    exit 2
    ;;
esac
