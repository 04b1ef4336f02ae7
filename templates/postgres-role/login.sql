-- Sets the grant's login role's password verifier and expiry: run by
-- terraform_data.login when they change (an extension, a new password), so
-- the role and its open sessions stay. Values arrive as in create.sql.
\getenv role JIT_ROLE
\getenv expires_at JIT_EXPIRES_AT
\getenv verifier JIT_PASSWORD_VERIFIER

SELECT :{?role} AND :{?expires_at} AND :{?verifier} AS jit_env_complete \gset
\if :jit_env_complete
\else
DO $$ BEGIN RAISE EXCEPTION 'login.sql needs JIT_ROLE, JIT_EXPIRES_AT and JIT_PASSWORD_VERIFIER in its environment; run it through the postgres-role template'; END $$;
\endif

SET lock_timeout = '10s';
SET statement_timeout = '60s';

ALTER ROLE :"role" PASSWORD :'verifier' VALID UNTIL :'expires_at';
