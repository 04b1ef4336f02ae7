-- Ends the grant: blocks new logins, terminates the role's live sessions,
-- drops what it owns in this database and drops the role. Run by
-- terraform_data.role's destroy-time provisioner. Idempotent: when the role
-- is already gone (destroyed before, or dropped by hand) it does nothing and
-- succeeds. Values arrive as in create.sql.
\getenv role JIT_ROLE

SELECT :{?role} AS jit_env_complete \gset
\if :jit_env_complete
\else
DO $$ BEGIN RAISE EXCEPTION 'destroy.sql needs JIT_ROLE in its environment; run it through the postgres-role template'; END $$;
\endif

SET lock_timeout = '10s';
SET statement_timeout = '60s';

SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') AS jit_role_exists \gset
\if :jit_role_exists
-- First refuse new logins, so no session can start between the
-- termination below and the drop.
ALTER ROLE :"role" NOLOGIN;
-- Wait up to 5 s for each session to end.
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = :'role' \g /dev/null
DROP OWNED BY :"role";
DROP ROLE IF EXISTS :"role";
\endif
