\getenv role JIT_ROLE
DROP ROLE IF EXISTS :"role";
