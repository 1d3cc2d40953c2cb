-- Row privileges of the app role, re-run after every `agam db upgrade` (new tables).
-- Rows: read, add and update; the schema: never. The audit log and list decisions are
-- append-only (database triggers refuse UPDATE and DELETE too); union exposure is the
-- only table the app empties (it is recomputed after each registry import).
SELECT format('GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA agam TO %I', :'app') \gexec
SELECT format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA agam TO %I', :'app') \gexec
SELECT format('REVOKE UPDATE, DELETE, TRUNCATE ON agam.audit_log, agam.decisions FROM %I', :'app') \gexec
SELECT format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON agam.alembic_version FROM %I', :'app') \gexec
SELECT format('GRANT DELETE ON agam.union_exposure TO %I', :'app') \gexec
