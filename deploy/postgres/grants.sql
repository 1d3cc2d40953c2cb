-- Row privileges, table by table (run by `setup.sh grants` as a superuser, in the Agam
-- database, after every `agam db upgrade`). psql variables: app (required), reader (optional).
--
-- The app role (scheduler, dashboard, CLI) owns nothing: no DDL, no TRUNCATE (which would
-- skip the DELETE guards), no TRIGGER, so it can neither drop nor disable the list guards
-- (store/list_guards.py) or the append-only triggers. It reads every table and writes only
-- what the code writes:
--   insert-only  history and decisions, never changed once written;
--   update       rows whose state moves (each move checked by the store, lists and
--                grievances also by database triggers);
--   delete       only the two tables the code prunes or rebuilds.
-- The reader role (committee reporting) reads tables without personal data or credentials.
--
-- EVERY table of schema agam is named below exactly once in the app's list. A table added by
-- a migration and not classified here makes this script FAIL (the check at the end), so a new
-- table is never silently left ungranted or over-granted; tests/ops/test_postgres_roles.py
-- compares this file with a migrated database.

BEGIN;
-- Start from nothing, so a privilege taken out of this file is taken away on the next run.
REVOKE ALL ON ALL TABLES IN SCHEMA agam FROM PUBLIC, :"app";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA agam FROM PUBLIC, :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA agam TO :"app";

-- The schema revision: read (`agam db status`, the start-up check), never moved.
GRANT SELECT ON agam.alembic_version TO :"app";
-- Edits to beneficiaries outside an import, counted by the owner's triggers: read only, so
-- the app role cannot edit a beneficiary outside an import either (the count would move).
GRANT SELECT ON agam.registry_edits TO :"app";

-- Insert-only: what was forecast, judged, decided, pinned, sealed and audited.
GRANT SELECT, INSERT ON
  agam.activation_keys,
  agam.alert_events,
  agam.allowance_lines,
  agam.allowance_payees,
  agam.audit_log,
  agam.beneficiary_history,
  agam.config_versions,
  agam.decisions,
  agam.evaluations,
  agam.forecast_runs,
  agam.grievance_events,
  agam.list_registry_pins,
  agam.payment_imports,
  agam.payment_snapshots,
  agam.registry_quarantine
TO :"app";

-- Rows whose state moves: alerts and activations follow the forecast, lists and grievances
-- move along their steps, feeds record runs, the outbox records deliveries, the scheduler
-- beats, accounts and their sessions and tokens are disabled or revoked, a registry import
-- updates beneficiaries, a payment result moves failed -> paid or paid -> reversed (only
-- those, by database triggers).
GRANT SELECT, INSERT, UPDATE ON
  agam.activations,
  agam.alerts,
  agam.allowance_lists,
  agam.api_tokens,
  agam.beneficiaries,
  agam.dashboard_sessions,
  agam.feed_runs,
  agam.feed_status,
  agam.grievances,
  agam.notification_outbox,
  agam.payment_results,
  agam.registry_imports,
  agam.scheduler_heartbeat,
  agam.users
TO :"app";

-- One row, changed in place: how many administrators approve a list (raised by a config
-- asking for two, lowered by an admin; never deleted, a trigger refuses it).
GRANT SELECT, UPDATE ON agam.approval_policy TO :"app";

-- Deleted by the code: old sign-in attempts are pruned (store/throttle.py), union exposure is
-- rebuilt after each registry import (allowances/exposure.py).
GRANT SELECT, INSERT, DELETE ON agam.sign_in_attempts TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON agam.union_exposure TO :"app";

\if :{?reader}
REVOKE ALL ON ALL TABLES IN SCHEMA agam FROM :"reader";
-- Reporting: forecasts, judgements, alerts, list totals and decisions, exposure per union,
-- feed and scheduler health. Never the registry, payees, list lines, grievances, accounts,
-- credentials, the outbox (addresses) or the audit log (payloads).
GRANT SELECT ON
  agam.activation_keys,
  agam.activations,
  agam.alembic_version,
  agam.alert_events,
  agam.alerts,
  agam.allowance_lists,
  agam.approval_policy,
  agam.config_versions,
  agam.decisions,
  agam.evaluations,
  agam.feed_runs,
  agam.feed_status,
  agam.forecast_runs,
  agam.list_registry_pins,
  agam.payment_imports,
  agam.registry_edits,
  agam.registry_imports,
  agam.scheduler_heartbeat,
  agam.union_exposure
TO :"reader";
\endif

-- The check: a table the app role cannot even read was not classified above.
CREATE FUNCTION pg_temp.agam_unclassified(app name) RETURNS void AS $$
DECLARE missing text;
BEGIN
  SELECT string_agg(c.relname, ', ' ORDER BY c.relname) INTO missing
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'agam' AND c.relkind IN ('r', 'p')
    AND NOT has_table_privilege(app, c.oid, 'SELECT');
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'tables not classified in deploy/postgres/grants.sql: %', missing
      USING HINT = 'add each to the list of its privileges, then run setup.sh grants again';
  END IF;
END $$ LANGUAGE plpgsql;
SELECT pg_temp.agam_unclassified(:'app') \gset
COMMIT;
