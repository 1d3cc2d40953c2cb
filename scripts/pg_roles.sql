-- PostgreSQL roles for a deployment where only named people can decide (docs/security.md).
--
-- Run as a superuser, once, in the Agam database AFTER `agam db upgrade` has been run as
-- agam_owner (the owner creates the tables, the guards and their functions):
--   psql -v ON_ERROR_STOP=1 -d agam -f scripts/pg_roles.sql
-- then set passwords:  ALTER ROLE agam_app PASSWORD '...';  (never in this file)
--
-- agam_owner     owns the schema; only `agam db upgrade` connects as it. It can drop the
--                guards, so nobody uses it day to day.
-- agam_app       what the dashboard, the scheduler and the CLI connect as. It reads and
--                writes rows but owns nothing: it cannot drop or disable a trigger, alter a
--                table, or TRUNCATE (which would skip the DELETE guards). Decisions, the
--                audit log and pinned payees are insert-only for it.
-- agam_readonly  reporting for the committee (aggregates are built from it, never shown raw).
--
-- Re-run after every `agam db upgrade` that adds tables (grants are per table).

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agam_app') THEN
    CREATE ROLE agam_app LOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agam_readonly') THEN
    CREATE ROLE agam_readonly LOGIN NOINHERIT;
  END IF;
END $$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO agam_app, agam_readonly;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM agam_app, agam_readonly;

GRANT SELECT ON ALL TABLES IN SCHEMA public TO agam_app, agam_readonly;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO agam_app;

-- Insert-only history: what was decided, by whom, and what was pinned.
GRANT INSERT ON decisions, audit_log, allowance_payees, allowance_lines, alert_events,
  beneficiary_history, registry_quarantine, evaluations, forecast_runs TO agam_app;
-- Rows that change through the store's checks (and, for lists, the database's guards).
GRANT INSERT, UPDATE ON allowance_lists, alerts, users, api_tokens, dashboard_sessions,
  registry_imports, beneficiaries, feed_status, feed_runs, union_exposure TO agam_app;
-- Working tables the store prunes or rebuilds.
GRANT INSERT, UPDATE, DELETE ON sign_in_attempts, union_exposure TO agam_app;
-- A draft's lines and payees are replaced when it is proposed again; the guards refuse any
-- change once the list has left draft.
GRANT DELETE ON allowance_lines, allowance_payees TO agam_app;
