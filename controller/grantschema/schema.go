package grantschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/template"
)

// File is where the schema lives, relative to the repository's top level.
// It is not under access/, where every file must be a grant.
const File = "grant.schema.json"

// Draft is the JSON Schema dialect of the generated schema.
const Draft = "http://json-schema.org/draft-07/schema#"

// Regenerate is the command that rewrites File from the repository.
const Regenerate = "go generate ./controller/grantschema"

// Schema is a JSON Schema object. Its keys marshal sorted.
type Schema = map[string]any

// The patterns of the grant file's fields, as the strict parser
// (controller/request) and grant.ParseDuration check them; written in the
// common subset of ECMA-262 and Go regular expressions.
const (
	loginPattern    = `^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`
	namePattern     = `^[a-z0-9][a-z0-9_-]{0,63}$`
	scopeKeyPattern = `^[a-z_][a-z0-9_]{0,63}$`
	durationPattern = `^(?:[0-9]{1,4}h)?(?:[0-9]{1,5}m)?$`
	// zeroDuration matches the durations the syntax allows but the parser
	// refuses as zero: "", "0h", "00m", "0h0m", ...
	zeroDuration = `^(?:0{1,4}h)?(?:0{1,5}m)?$`
	// maxReason is request.MaxReasonLength (in characters).
	maxReason = 2000
	// maxTicket is the parser's limit for a ticket (in bytes there; a
	// schema counts characters, so it is weaker for non-ASCII tickets).
	maxTicket = 100
)

// field is the schema of one grant.Request field, as written in a grant
// file.
type field struct {
	name     string // the YAML key
	required bool
	schema   func(templates []string) Schema
}

// fields maps every grant.Request field a grant file sets to its schema;
// the others are derived from the file's path or position.
var fields = map[string]field{
	"Template": {"template", true, func(templates []string) Schema {
		s := Schema{"type": "string", "description": "The template that provisions the grant: a directory under templates/.",
			"pattern": namePattern, "patternErrorMessage": "lower-case letters, digits, '-' and '_', naming a directory under templates/"}
		if len(templates) > 0 {
			s["enum"] = templates
		}
		return s
	}},
	"Requester": {"requester", true, func([]string) Schema {
		return Schema{"type": "string", "description": "The GitHub login the access is for.",
			"pattern": loginPattern, "patternErrorMessage": "a GitHub login: letters, digits and single hyphens, at most 39 characters"}
	}},
	"Duration": {"duration", true, func([]string) Schema {
		return Schema{"type": "string", "description": "How long access lasts, counted from the merge: hours and minutes such as 2h, 90m or 1h30m; at least 1m, at most 366 days (8784h).",
			"pattern": durationPattern, "patternErrorMessage": "write hours and minutes such as 2h, 90m or 1h30m",
			"not": Schema{"pattern": zeroDuration, "errorMessage": "the duration is zero; ask for at least 1m"}}
	}},
	"Reason": {"reason", true, func([]string) Schema {
		return Schema{"type": "string", "description": "Why you need the access, for the approvers and the audit.",
			"minLength": 1, "maxLength": maxReason,
			"pattern": notSpace(), "patternErrorMessage": "the reason is empty; say why you need the access"}
	}},
	"Ticket": {"ticket", false, func([]string) Schema {
		return Schema{"type": "string", "description": "A ticket reference such as INC-1234; policies may require one of a given form.",
			"maxLength": maxTicket,
			"pattern":   `^[^\n\r]*` + notSpace() + `[^\n\r]*$`, "patternErrorMessage": "a single-line reference of at most 100 characters, such as INC-1234"}
	}},
	"Target": {"target", false, func([]string) Schema {
		return Schema{"type": "string", "description": "The target (declared by the operator, allowed by the policies covering the grant) the template is applied to.",
			"pattern": namePattern, "patternErrorMessage": "lower-case letters, digits, '-' and '_', as the policies covering the grant list it"}
	}},
	"BreakGlass": {"break_glass", false, func([]string) Schema {
		return Schema{"type": "boolean", "description": "Emergency access without prior approval, within the limits of the matching policies' break_glass blocks."}
	}},
	"Scope": {"scope", false, func([]string) Schema {
		return Schema{"type": "object", "description": "The template's inputs: a mapping of input names to values.",
			"propertyNames": Schema{"pattern": scopeKeyPattern, "not": Schema{"enum": grant.ReservedInputs}}}
	}},
}

// derived are the grant.Request fields no grant file sets.
var derived = map[string]bool{"ID": true, "File": true, "Pos": true, "Invalid": true}

// notSpace is a character class of one character that strings.TrimSpace
// would not remove (one for which unicode.IsSpace is false).
var notSpace = sync.OnceValue(func() string {
	var b strings.Builder
	b.WriteString("[^")
	for lo := rune(0); lo <= unicode.MaxRune; lo++ {
		if !unicode.IsSpace(lo) {
			continue
		}
		hi := lo
		for unicode.IsSpace(hi + 1) {
			hi++
		}
		b.WriteString(classRune(lo))
		if hi > lo {
			b.WriteString("-" + classRune(hi))
		}
		lo = hi
	}
	b.WriteString("]")
	return b.String()
})

// Generate returns the JSON Schema of grant files for the access repository
// in fsys (rooted at its top level), encoded as indented JSON with sorted
// keys and a final newline: the same repository always gives the same
// bytes. Every template under templates/ must load without problems.
func Generate(fsys fs.FS) ([]byte, error) {
	s, err := Build(fsys)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encoding the grant schema: %w", err)
	}
	return asciiJSON(buf.Bytes()), nil
}

// Build returns the schema Generate encodes.
func Build(fsys fs.FS) (Schema, error) {
	mods, err := loadTemplates(fsys)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(mods))
	for i, m := range mods {
		names[i] = m.Name
	}
	props, required, err := properties(reflect.TypeFor[grant.Request](), names)
	if err != nil {
		return nil, err
	}
	var conds []any
	for _, m := range mods {
		scope, err := scopeSchema(fsys, m)
		if err != nil {
			return nil, err
		}
		then := Schema{"properties": Schema{"scope": scope}}
		if req, _ := scope["required"].([]string); len(req) > 0 {
			then["required"] = []string{"scope"}
		}
		conds = append(conds, Schema{
			"if":   Schema{"properties": Schema{"template": Schema{"const": m.Name}}, "required": []string{"template"}},
			"then": then,
		})
	}
	s := Schema{
		"$schema":              Draft,
		"$comment":             "Generated from the grant format and templates/*/ by " + Regenerate + "; do not edit.",
		"title":                "jit grant file",
		"description":          "A request for temporary access: one file per grant under access/, its path below access/ without .yaml being the grant id. jit validate checks it fully; this schema helps while typing.",
		"type":                 "object",
		"additionalProperties": false,
		"required":             required,
		"properties":           props,
	}
	if len(conds) > 0 {
		s["allOf"] = conds
	}
	return s, nil
}

// properties returns the schema of each field of rt (grant.Request) that a
// grant file sets, and the names of the required ones, in rt's order. A
// field neither described nor derived is an error, so a field added to
// grant.Request cannot be missing from the schema unnoticed.
func properties(rt reflect.Type, templates []string) (Schema, []string, error) {
	props := Schema{}
	var required []string
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if derived[name] {
			continue
		}
		f, ok := fields[name]
		if !ok {
			return nil, nil, fmt.Errorf("%s has a field %s that the grant schema does not describe: add it to grantschema's fields and run %s", rt, name, Regenerate)
		}
		props[f.name] = f.schema(templates)
		if f.required {
			required = append(required, f.name)
		}
	}
	return props, required, nil
}

// loadTemplates loads every template under templates/, sorted by name.
func loadTemplates(fsys fs.FS) ([]*template.Module, error) {
	entries, err := fs.ReadDir(fsys, template.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", template.Dir, err)
	}
	name := regexp.MustCompile(namePattern)
	var mods []*template.Module
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if !name.MatchString(e.Name()) {
			return nil, fmt.Errorf("%s/%s: a template's name must be lower-case letters, digits, '-' and '_' (grant files could not name it); rename the directory", template.Dir, e.Name())
		}
		m, problems, err := template.Load(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		if len(problems) > 0 {
			msgs := make([]string, len(problems))
			for i, p := range problems {
				msgs[i] = p.String()
			}
			return nil, fmt.Errorf("template %s has problems; fix them before generating the grant schema:\n%s", e.Name(), strings.Join(msgs, "\n"))
		}
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Name < mods[j].Name })
	return mods, nil
}

// asciiJSON escapes every non-ASCII character of encoded JSON as \uHHHH
// (a surrogate pair beyond the Basic Multilingual Plane), so that the file
// shows no invisible character; JSON readers decode it back.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r < 0x80:
			out.WriteRune(r)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}

// Modeline returns the comment line (without its newline) that makes
// yaml-language-server check the grant file at file (a repository-relative
// path such as "access/prod/db/alice-inc-1234.yaml") against File:
// "# yaml-language-server: $schema=../../../grant.schema.json".
func Modeline(file string) string {
	depth := strings.Count(path.Clean(file), "/")
	return "# yaml-language-server: $schema=" + strings.Repeat("../", depth) + File
}
