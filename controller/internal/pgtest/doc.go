// Package pgtest starts throwaway PostgreSQL clusters for tests. It is
// test-only: nothing outside _test.go files and test helpers imports it.
//
// A cluster is a real postgres server (initdb + pg_ctl from the machine's
// PostgreSQL server binaries) in its own temporary directory, listening on
// 127.0.0.1 on a free port. When the test process runs as root the server
// runs as the postgres OS user through runuser, because PostgreSQL refuses to
// run as root.
//
// Authentication is set up so that tests exercise real password checks:
//
//	local all all                trust
//	host  all postgres 127.0.0.1/32 trust          (the superuser, for setup)
//	host  all all      127.0.0.1/32 scram-sha-256  (everyone else)
//
// Clients are the real psql binary; no Go driver is involved.
//
// When the server binaries are missing, Start and Shared skip the test, except
// under CI=true, where they fail it: CI must exercise the real server.
package pgtest
