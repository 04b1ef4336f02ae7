-- Ensures the grant's login role is exactly what the grant says, creating it
-- when it is missing. Run by terraform_data.role's create-time provisioner
-- and by terraform_data.login, which runs again when the expiry or the
-- password changes and whenever jit re-asserts the grant (drift). Running it
-- any number of times gives the same role; it never drops the role, so open
-- sessions survive it. As: psql -X -q -v ON_ERROR_STOP=1 -f ensure.sql
--
-- Every value comes from the environment through \getenv and is used only as
-- a psql variable: :"x" quotes an identifier, :'x' a literal. No value is
-- ever pasted into SQL text (format() with %I and %L quotes on the server).
\getenv role JIT_ROLE
\getenv database JIT_DATABASE
\getenv group_role JIT_GROUP_ROLE
\getenv connection_limit JIT_CONNECTION_LIMIT
\getenv comment JIT_COMMENT
\getenv expires_at JIT_EXPIRES_AT
\getenv verifier JIT_PASSWORD_VERIFIER
\getenv idle_timeout JIT_IDLE_TIMEOUT

SELECT :{?role} AND :{?database} AND :{?group_role} AND :{?connection_limit} AND :{?comment}
   AND :{?expires_at} AND :{?verifier} AND :{?idle_timeout} AS jit_env_complete \gset
\if :jit_env_complete
\else
DO $$ BEGIN RAISE EXCEPTION 'ensure.sql needs JIT_ROLE, JIT_DATABASE, JIT_GROUP_ROLE, JIT_CONNECTION_LIMIT, JIT_COMMENT, JIT_EXPIRES_AT, JIT_PASSWORD_VERIFIER and JIT_IDLE_TIMEOUT in its environment; run it through the postgres-role template'; END $$;
\endif

SET lock_timeout = '10s';
SET statement_timeout = '60s';

-- One transaction: either the role ends up exactly as below, or nothing
-- changed.
BEGIN;

SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') AS jit_role_exists,
       coalesce((SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = :'role'), '') AS jit_found_comment \gset
\if :jit_role_exists
-- Only a role this grant made carries its comment (the comment is set in the
-- transaction that creates the role). Anything else is someone else's role
-- that happens to have the name: never take it over.
SELECT :'jit_found_comment' = :'comment' AS jit_role_is_ours \gset
\if :jit_role_is_ours
\else
SELECT format('DO %L', format('BEGIN RAISE EXCEPTION USING MESSAGE = %L, HINT = %L; END',
         format('role %I already exists and is not this grant''s: %s, where this grant''s role would say %L',
                :'role',
                CASE WHEN :'jit_found_comment' = '' THEN 'it has no comment' ELSE format('its comment is %L', :'jit_found_comment') END,
                :'comment'),
         'jit never takes over a role it did not create for this grant: find out whose role it is, and drop or rename it')) \gexec
\endif
\else
CREATE ROLE :"role" NOLOGIN;
COMMENT ON ROLE :"role" IS :'comment';
\endif

ALTER ROLE :"role"
  LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'verifier'
  VALID UNTIL :'expires_at';

-- CONNECTION LIMIT takes an integer constant, not a literal: format it from
-- the value cast to int, which refuses anything that is not a number.
SELECT format('ALTER ROLE %I CONNECTION LIMIT %s', :'role', CAST(:'connection_limit' AS int)) \gexec

-- Member of exactly one role, the group role, without ADMIN OPTION.
SELECT format('REVOKE %I FROM %I', g.rolname, :'role')
  FROM pg_auth_members m
  JOIN pg_roles g ON g.oid = m.roleid
 WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :'role')
   AND g.rolname <> :'group_role' \gexec
SELECT format('REVOKE ADMIN OPTION FOR %I FROM %I', :'group_role', :'role')
  FROM pg_auth_members m
 WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :'role')
   AND m.roleid = (SELECT oid FROM pg_roles WHERE rolname = :'group_role')
   AND m.admin_option \gexec
SELECT format('GRANT %I TO %I', :'group_role', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_auth_members m
                    WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :'role')
                      AND m.roleid = (SELECT oid FROM pg_roles WHERE rolname = :'group_role')) \gexec

-- Session defaults: only the two idle timeouts (see README.md), nothing
-- else, in no database.
ALTER ROLE :"role" RESET ALL;
SELECT format('ALTER ROLE %I IN DATABASE %I RESET ALL', :'role', d.datname)
  FROM pg_db_role_setting s
  JOIN pg_database d ON d.oid = s.setdatabase
 WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" SET idle_session_timeout = :'idle_timeout';
ALTER ROLE :"role" SET idle_in_transaction_session_timeout = :'idle_timeout';

-- The grant is for one database. PostgreSQL cannot deny CONNECT to one role
-- while PUBLIC holds it, so refuse (and roll back) when the role could
-- connect anywhere else, and when it could not connect to its own database.
SELECT coalesce(string_agg(quote_ident(datname), ', ' ORDER BY datname), '') AS jit_other_databases
  FROM pg_database
 WHERE datallowconn AND datname <> :'database'
   AND has_database_privilege(:'role', oid, 'CONNECT') \gset
SELECT :'jit_other_databases' <> '' AS jit_reaches_others,
       has_database_privilege(:'role', :'database', 'CONNECT') AS jit_reaches_own \gset
\if :jit_reaches_others
SELECT format('DO %L', format('BEGIN RAISE EXCEPTION USING MESSAGE = %L, HINT = %L; END',
         format('role %I could connect to databases other than %I: %s', :'role', :'database', :'jit_other_databases'),
         'revoke CONNECT on those databases from PUBLIC (and from the group role) as templates/postgres-role/README.md describes; nothing was changed')) \gexec
\endif
\if :jit_reaches_own
\else
SELECT format('DO %L', format('BEGIN RAISE EXCEPTION USING MESSAGE = %L, HINT = %L; END',
         format('role %I could not connect to database %I', :'role', :'database'),
         format('grant CONNECT on database %I to the group role %I as templates/postgres-role/README.md describes; nothing was changed', :'database', :'group_role'))) \gexec
\endif

COMMIT;
