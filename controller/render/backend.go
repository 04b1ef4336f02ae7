package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// BackendFileName is the name of the backend configuration file added to the
// template.
const BackendFileName = "zz_jit_backend.tf.json"

// DefaultSchema is the PostgreSQL schema holding the states of the pg backend.
const DefaultSchema = "jit_state"

// Backend says where terraform keeps each grant's state.
type Backend struct {
	// Kind is "local" or "pg".
	Kind string
	// Dir is the local backend's directory; Config needs it absolute.
	Dir string
	// ConnStr is the pg backend's connection string (a secret: it only ever
	// reaches terraform init, through the file InitConfig renders, never
	// the environment of a command that runs provisioners).
	ConnStr string
	// Schema is the pg backend's schema; empty means DefaultSchema.
	Schema string
}

// ParseState parses a --state value: "local:DIR" or "pg:CONNSTR".
func ParseState(spec string) (Backend, error) {
	kind, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return Backend{}, fmt.Errorf("--state %q: want local:DIR or pg:CONNSTR", spec)
	}
	switch kind {
	case "local":
		if rest == "" {
			return Backend{}, fmt.Errorf("--state %q: local needs a directory, e.g. local:.jit/state", spec)
		}
		if strings.ContainsRune(rest, 0) {
			return Backend{}, fmt.Errorf("--state: the directory contains a NUL byte")
		}
		return Backend{Kind: "local", Dir: rest}, nil
	case "pg":
		if strings.TrimSpace(rest) == "" {
			return Backend{}, fmt.Errorf("--state pg: needs a connection string, e.g. pg:postgres://user@host/db or pg:\"host=… dbname=…\"")
		}
		return Backend{Kind: "pg", ConnStr: rest}, nil
	case "s3":
		return Backend{}, fmt.Errorf("--state s3: is not built in; configure the s3 backend as documented in controller/render")
	default:
		return Backend{}, fmt.Errorf("--state %q: unknown backend %q, want local:DIR or pg:CONNSTR", spec, kind)
	}
}

// String describes the backend without secrets.
func (b Backend) String() string {
	switch b.Kind {
	case "local":
		return "local:" + b.Dir
	case "pg":
		return "pg (schema " + b.schema() + ")"
	}
	return b.Kind
}

func (b Backend) schema() string {
	if b.Schema == "" {
		return DefaultSchema
	}
	return b.Schema
}

// Config renders the backend configuration file. It holds no secrets.
func (b Backend) Config() ([]byte, error) {
	var body map[string]any
	switch b.Kind {
	case "local":
		if !path.IsAbs(b.Dir) {
			return nil, fmt.Errorf("local state directory %q must be absolute", b.Dir)
		}
		body = map[string]any{"local": map[string]any{
			"workspace_dir": b.Dir,
			"path":          path.Join(b.Dir, "default.tfstate"),
		}}
	case "pg":
		body = map[string]any{"pg": map[string]any{"schema_name": b.schema()}}
	default:
		return nil, fmt.Errorf("unknown state backend %q", b.Kind)
	}
	out, err := json.MarshalIndent(map[string]any{"terraform": map[string]any{"backend": body}}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// InitConfig renders the backend's secret settings as a JSON file for
// `terraform init -backend-config=FILE` (the file name must end in .json),
// or nil when the backend has none. terraform keeps them in its data
// directory, so later commands need them neither in a file nor in the
// environment. The value is encoded as a JSON string, never interpolated.
func (b Backend) InitConfig() ([]byte, error) {
	if b.Kind != "pg" {
		return nil, nil
	}
	out, err := json.Marshal(map[string]string{"conn_str": b.ConnStr})
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// SecretEnv lists the environment variables through which terraform's
// state backends take credentials (the pg backend's PG_CONN_STR). jit sets
// none of them, and none inherited reaches terraform: a template's
// provisioners would see it.
var SecretEnv = []string{"PG_CONN_STR"}

// Key identifies the backend (a hash, so secrets in it do not leak into
// directory names).
func (b Backend) Key() string {
	sum := sha256.Sum256([]byte(b.Kind + "\x00" + b.Dir + "\x00" + b.ConnStr + "\x00" + b.schema()))
	return b.Kind + "-" + hex.EncodeToString(sum[:6])
}
