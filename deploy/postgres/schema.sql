-- Inside the database (run as a superuser): one schema owned by the owner role, nothing
-- in `public` for anyone, both roles find the tables by search_path.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('CREATE SCHEMA IF NOT EXISTS agam AUTHORIZATION %I', :'owner') \gexec
SELECT format('ALTER ROLE %I IN DATABASE %I SET search_path = agam', r, current_database())
FROM unnest(ARRAY[:'owner', :'app']) AS r \gexec
SELECT format('GRANT USAGE ON SCHEMA agam TO %I', :'app') \gexec
