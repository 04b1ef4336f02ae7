// Package templatetest exercises the templates shipped in templates/ with the
// real terraform binary against real targets (a throwaway PostgreSQL cluster
// from pgtest). It holds tests only; nothing imports it.
//
// The tests skip when terraform or the PostgreSQL server binaries are
// missing, and fail instead under CI=true.
package templatetest
