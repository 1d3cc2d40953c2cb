-- Roles and database (run as a superuser). Idempotent.
SELECT format('CREATE ROLE %I LOGIN', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN', :'app')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') \gexec
-- Neither role may create roles or databases, or bypass row security.
SELECT format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', r)
FROM unnest(ARRAY[:'owner', :'app']) AS r \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'owner', 'UTF8')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'app') \gexec
-- Statement and idle limits: a stuck client cannot hold locks for ever.
SELECT format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', :'app', '5min') \gexec
SELECT format('ALTER ROLE %I SET statement_timeout = %L', :'app', '10min') \gexec
