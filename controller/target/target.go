// Package target reads the operator's targets file: the named servers that
// grants are applied to, each with the connection settings its templates get
// in their environment and the secrets that complete them. The file lives
// outside git (jit's --targets FILE, or JIT_TARGETS), so nothing a pull
// request changes can point a grant at another server or read a secret;
// policies (policies/*.hcl, targets = [...]) only say which names the grants
// under their paths may use.
//
// The file is HCL, literal values only:
//
//	target "prod-orders" {
//	  env        = { PGHOST = "db.prod.internal", PGPORT = "5432", PGUSER = "jit_admin", PGSSLMODE = "verify-full" }
//	  secret_env = { PGPASSWORD = "env:PROD_ORDERS_PG_PASSWORD" }   # or "file:/run/secrets/prod-orders"
//	}
//
// env holds plain settings; secret_env names where each secret is read from
// when a grant is provisioned: "env:NAME", a variable of jit's environment,
// or "file:/absolute/path", a file whose content (without a final line
// break) is the value. Secrets are never written in the file itself: a
// variable whose name says it is a secret (PASSWORD, SECRET, TOKEN) is
// refused in env. Every problem is reported with the file, line and column.
package target

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/hcldiag"
)

// MaxFileSize bounds a targets file, in bytes.
const MaxFileSize = 1 << 20

// MaxSecretSize bounds a secret read from a file, in bytes.
const MaxSecretSize = 64 << 10

var (
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	envPattern  = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,127}$`)
)

// secretWords mark variable names whose values are secrets: they belong in
// secret_env, never written in the file.
var secretWords = []string{"PASSWORD", "SECRET", "TOKEN"}

// reserved reports names a target may not set: terraform's own (TF_*),
// the state backend's credentials, and those jit sets for every run.
func reserved(name string) bool {
	return strings.HasPrefix(name, "TF_") || strings.HasPrefix(name, "JIT_") || name == "PG_CONN_STR" || name == "CHECKPOINT_DISABLE"
}

// Secret says where one secret variable's value comes from.
type Secret struct {
	// Source is "env" or "file".
	Source string
	// Ref is the variable name (env) or the absolute path (file).
	Ref string
	// Pos is where the reference is written.
	Pos grant.Pos
}

// Target is one declared target.
type Target struct {
	Name string
	// File and Pos locate the target block.
	File string
	Pos  grant.Pos
	// Env holds the plain settings, by variable name.
	Env map[string]string
	// Secrets holds the secret settings, by variable name.
	Secrets map[string]Secret
}

// Where renders the target's location, "targets.hcl:3".
func (t Target) Where() string { return fmt.Sprintf("%s:%d", t.File, t.Pos.Line) }

// Set is the targets one controller is configured with. The zero Set (and
// a nil *Set) has none.
type Set struct {
	targets map[string]Target
}

// Get returns the target called name.
func (s *Set) Get(name string) (Target, bool) {
	if s == nil {
		return Target{}, false
	}
	t, ok := s.targets[name]
	return t, ok
}

// Names returns the targets' names, sorted.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.targets))
	for n := range s.targets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Controlled returns every variable name a target of the set sets (env and
// secret_env) and every variable a secret is read from (env:NAME). Such
// variables of jit's own environment must never reach a template that is
// not applied to the target they belong to.
func (s *Set) Controlled() map[string]bool {
	out := s.SecretSources()
	for _, name := range s.Names() {
		t := s.targets[name]
		for k := range t.Env {
			out[k] = true
		}
		for k := range t.Secrets {
			out[k] = true
		}
	}
	return out
}

// SecretSources returns the variables of jit's environment that secrets
// are read from (the NAME of each "env:NAME"): none of them may reach a
// template, whatever its target.
func (s *Set) SecretSources() map[string]bool {
	out := map[string]bool{}
	if s == nil {
		return out
	}
	for _, t := range s.targets {
		for _, sec := range t.Secrets {
			if sec.Source == "env" {
				out[sec.Ref] = true
			}
		}
	}
	return out
}

// Environ returns the target's environment: its settings and its secrets,
// read now from lookupEnv (jit's environment) and the files named. An unset
// or empty variable, an unreadable, empty or oversized file is an error
// naming the target, the setting and where it is declared; no error ever
// holds a secret's value.
func (t Target) Environ(lookupEnv func(string) (string, bool)) (map[string]string, error) {
	out := make(map[string]string, len(t.Env)+len(t.Secrets))
	for k, v := range t.Env {
		out[k] = v
	}
	names := make([]string, 0, len(t.Secrets))
	for k := range t.Secrets {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		sec := t.Secrets[k]
		where := fmt.Sprintf("%s:%d:%d", t.File, sec.Pos.Line, sec.Pos.Column)
		switch sec.Source {
		case "env":
			v, ok := lookupEnv(sec.Ref)
			if !ok || v == "" {
				return nil, fmt.Errorf("target %s: secret %s: environment variable %s is not set (%s); set it in jit's environment", t.Name, k, sec.Ref, where)
			}
			if strings.ContainsRune(v, 0) {
				return nil, fmt.Errorf("target %s: secret %s: environment variable %s holds a NUL byte (%s)", t.Name, k, sec.Ref, where)
			}
			out[k] = v
		case "file":
			v, err := readSecret(sec.Ref)
			if err != nil {
				return nil, fmt.Errorf("target %s: secret %s (%s): %w", t.Name, k, where, err)
			}
			out[k] = v
		default:
			return nil, fmt.Errorf("target %s: secret %s has unknown source %q (%s)", t.Name, k, sec.Source, where)
		}
	}
	return out, nil
}

func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading the secret file: %w; make it readable by jit", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretSize+1))
	if err != nil {
		return "", fmt.Errorf("reading the secret file %s: %w", path, err)
	}
	if len(b) > MaxSecretSize {
		return "", fmt.Errorf("secret file %s is over %d bytes; it must hold the secret alone", path, MaxSecretSize)
	}
	v := strings.TrimRight(string(b), "\r\n")
	switch {
	case v == "":
		return "", fmt.Errorf("secret file %s is empty; put the secret in it", path)
	case strings.ContainsRune(v, 0):
		return "", fmt.Errorf("secret file %s holds a NUL byte, which no environment variable can carry", path)
	}
	return v, nil
}

// Load reads and parses the targets file at path. A file with any problem
// yields no Set: a half-read file must not connect anything.
func Load(path string) (*Set, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("targets file: %w; give the file declaring the targets (--targets or JIT_TARGETS)", err)
	}
	if info.Size() > MaxFileSize {
		return nil, fmt.Errorf("targets file %s is %d bytes; at most %d are allowed", path, info.Size(), MaxFileSize)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("targets file: %w", err)
	}
	s, problems := Parse(path, src)
	if len(problems) > 0 {
		return nil, ProblemsError(problems)
	}
	return s, nil
}

// ProblemsError joins problems into one error, one "file:line:col: message"
// per line.
func ProblemsError(problems []grant.Problem) error {
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = errors.New(p.String())
	}
	return errors.Join(errs...)
}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "target", LabelNames: []string{"name"}}}}

var targetSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "description"}, {Name: "env"}, {Name: "secret_env"}}}

// Parse decodes a targets file. Either the Set is complete and there are no
// problems, or the problems say everything found wrong.
func Parse(file string, src []byte) (*Set, []grant.Problem) {
	if len(src) > MaxFileSize {
		return nil, []grant.Problem{grant.At(file, grant.Pos{Line: 1, Column: 1}, "file is %d bytes; at most %d are allowed", len(src), MaxFileSize)}
	}
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, hcldiag.Problems(file, diags)
	}
	content, diags := f.Body.Content(fileSchema)
	d := decoder{file: file, problems: hcldiag.Problems(file, diags)}
	s := &Set{targets: map[string]Target{}}
	for _, b := range content.Blocks {
		t := d.target(b)
		if prev, dup := s.targets[t.Name]; dup {
			d.addAt(b.LabelRanges[0], "target %q is declared twice (also at %s); names must be unique", t.Name, prev.Where())
			continue
		}
		s.targets[t.Name] = t
	}
	if len(d.problems) > 0 {
		grant.SortProblems(d.problems)
		return nil, d.problems
	}
	return s, nil
}

type decoder struct {
	file     string
	problems []grant.Problem
}

func (d *decoder) addAt(r hcl.Range, format string, args ...any) {
	d.problems = append(d.problems, grant.At(d.file, hcldiag.Pos(r), format, args...))
}

func (d *decoder) target(b *hcl.Block) Target {
	t := Target{Name: b.Labels[0], File: d.file, Pos: hcldiag.Pos(b.DefRange), Env: map[string]string{}, Secrets: map[string]Secret{}}
	if !namePattern.MatchString(t.Name) {
		d.addAt(b.LabelRanges[0], "target name %q must be lower-case letters, digits, '-' and '_' (at most 64), as policies name it", t.Name)
	}
	content, diags := b.Body.Content(targetSchema)
	d.problems = append(d.problems, hcldiag.Problems(d.file, diags)...)
	if a, ok := content.Attributes["description"]; ok {
		if v, diags := a.Expr.Value(nil); diags.HasErrors() || v.IsNull() || v.Type() != cty.String {
			d.addAt(a.Expr.Range(), "description must be a string")
		}
	}
	if a, ok := content.Attributes["env"]; ok {
		for _, kv := range d.mapping(a) {
			switch {
			case strings.ContainsAny(kv.value, "\x00\n\r"):
				d.addAt(kv.valueRange, "the value of %s holds a line break or NUL byte; give it on one line", kv.key)
			case secretName(kv.key):
				d.addAt(kv.keyRange, "%s looks like a secret; move it to secret_env as \"env:VARIABLE\" or \"file:/path\" so it is never written here", kv.key)
			default:
				t.Env[kv.key] = kv.value
			}
		}
	}
	if a, ok := content.Attributes["secret_env"]; ok {
		for _, kv := range d.mapping(a) {
			if _, dup := t.Env[kv.key]; dup {
				d.addAt(kv.keyRange, "%s is set in both env and secret_env; keep it in one", kv.key)
				continue
			}
			source, ref, _ := strings.Cut(kv.value, ":")
			sec := Secret{Source: source, Ref: ref, Pos: hcldiag.Pos(kv.valueRange)}
			switch {
			case source == "env" && envPattern.MatchString(ref):
			case source == "file" && filepath.IsAbs(ref) && !strings.ContainsAny(ref, "\x00\n\r"):
			case source == "env":
				d.addAt(kv.valueRange, "secret %s: %q is not an environment variable name (A-Z, 0-9, _)", kv.key, ref)
				continue
			case source == "file":
				d.addAt(kv.valueRange, "secret %s: %q is not an absolute path; give file:/path/to/secret", kv.key, ref)
				continue
			default:
				d.addAt(kv.valueRange, "secret %s must be \"env:VARIABLE\" or \"file:/absolute/path\"; write no secret value here", kv.key)
				continue
			}
			t.Secrets[kv.key] = sec
		}
	}
	if len(t.Env) == 0 && len(t.Secrets) == 0 && len(d.problems) == 0 {
		d.addAt(b.DefRange, "target %s sets nothing; give its connection settings in env (and secret_env)", t.Name)
	}
	return t
}

type keyValue struct {
	key, value           string
	keyRange, valueRange hcl.Range
}

// mapping decodes an attribute written as { NAME = "value", ... }, keeping
// where each key and value is, and checks the names.
func (d *decoder) mapping(a *hcl.Attribute) []keyValue {
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		d.addAt(a.Expr.Range(), "%s must be a map of variable names to strings, such as { PGHOST = \"db.internal\" }", a.Name)
		return nil
	}
	var out []keyValue
	seen := map[string]bool{}
	for _, p := range pairs {
		k, kd := p.Key.Value(nil)
		v, vd := p.Value.Value(nil)
		if kd.HasErrors() || k.IsNull() || k.Type() != cty.String {
			d.addAt(p.Key.Range(), "%s: keys must be variable names such as PGHOST", a.Name)
			continue
		}
		if vd.HasErrors() || v.IsNull() || v.Type() != cty.String || !v.IsKnown() {
			d.addAt(p.Value.Range(), "%s: the value of %s must be a literal string", a.Name, k.AsString())
			continue
		}
		kv := keyValue{key: k.AsString(), value: v.AsString(), keyRange: p.Key.Range(), valueRange: p.Value.Range()}
		switch {
		case !envPattern.MatchString(kv.key):
			d.addAt(kv.keyRange, "%q is not an environment variable name (A-Z, 0-9, _)", kv.key)
		case reserved(kv.key):
			d.addAt(kv.keyRange, "%s is terraform's, jit's or the state backend's own setting; a target may not set it", kv.key)
		case seen[kv.key]:
			d.addAt(kv.keyRange, "%s is set twice", kv.key)
		default:
			seen[kv.key] = true
			out = append(out, kv)
		}
	}
	return out
}

func secretName(name string) bool {
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
