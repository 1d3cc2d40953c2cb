-- Inside the database (run by setup.sh as a superuser): one schema owned by the owner role,
-- nothing in `public` for anyone, every role finds the tables by search_path. psql variables:
-- owner, app (required), reader (optional).
SET client_min_messages = warning;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('CREATE SCHEMA IF NOT EXISTS agam AUTHORIZATION %I', :'owner') \gexec
SELECT format('ALTER ROLE %I IN DATABASE %I SET search_path = agam', r, current_database())
FROM unnest(ARRAY[:'owner', :'app']) AS r \gexec
SELECT format('GRANT USAGE ON SCHEMA agam TO %I', :'app') \gexec
\if :{?reader}
SELECT format('ALTER ROLE %I IN DATABASE %I SET search_path = agam', :'reader', current_database()) \gexec
SELECT format('GRANT USAGE ON SCHEMA agam TO %I', :'reader') \gexec
\endif
