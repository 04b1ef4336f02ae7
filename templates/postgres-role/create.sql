-- Creates (or, when a previous run was interrupted after creating it, takes
-- over) the grant's login role. Run by terraform_data.role's create-time
-- provisioner as: psql -X -q -v ON_ERROR_STOP=1 -f create.sql
--
-- Every value comes from the environment through \getenv and is used only as
-- a psql variable: :"x" quotes an identifier, :'x' a literal. No value is
-- ever pasted into SQL text.
\getenv role JIT_ROLE
\getenv group_role JIT_GROUP_ROLE
\getenv connection_limit JIT_CONNECTION_LIMIT
\getenv comment JIT_COMMENT
\getenv expires_at JIT_EXPIRES_AT
\getenv verifier JIT_PASSWORD_VERIFIER

SELECT :{?role} AND :{?group_role} AND :{?connection_limit} AND :{?comment}
   AND :{?expires_at} AND :{?verifier} AS jit_env_complete \gset
\if :jit_env_complete
\else
DO $$ BEGIN RAISE EXCEPTION 'create.sql needs JIT_ROLE, JIT_GROUP_ROLE, JIT_CONNECTION_LIMIT, JIT_COMMENT, JIT_EXPIRES_AT and JIT_PASSWORD_VERIFIER in its environment; run it through the postgres-role template'; END $$;
\endif

SET lock_timeout = '10s';
SET statement_timeout = '60s';

BEGIN;

SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') AS jit_role_is_new \gset
\if :jit_role_is_new
CREATE ROLE :"role"
  LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'verifier'
  VALID UNTIL :'expires_at'
  IN ROLE :"group_role";
\else
-- A run that was killed after COMMIT but before terraform recorded the role:
-- bring the existing role to exactly the state a fresh one would have.
ALTER ROLE :"role"
  LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'verifier'
  VALID UNTIL :'expires_at';
SELECT format('REVOKE %I FROM %I', g.rolname, :'role')
  FROM pg_auth_members m
  JOIN pg_roles g ON g.oid = m.roleid
 WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :'role')
   AND g.rolname <> :'group_role' \gexec
GRANT :"group_role" TO :"role";
\endif

-- CONNECTION LIMIT takes an integer constant, not a literal: format it from
-- the value cast to int, which refuses anything that is not a number.
SELECT format('ALTER ROLE %I CONNECTION LIMIT %s', :'role', CAST(:'connection_limit' AS int)) \gexec

COMMENT ON ROLE :"role" IS :'comment';

COMMIT;
