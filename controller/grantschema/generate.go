package grantschema

//go:generate go run ./internal/gen -root ../.. -out ../../grant.schema.json
