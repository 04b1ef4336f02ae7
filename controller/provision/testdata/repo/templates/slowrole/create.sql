\getenv role JIT_ROLE
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') AS jit_new \gset
\if :jit_new
CREATE ROLE :"role" LOGIN;
\endif
