package render

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jitops/jit/controller/grant"
)

// MetaVariable is the input variable (and output) through which jit records
// its bookkeeping in each workspace's state; templates may not declare it.
const MetaVariable = "jit_grant"

// CompleteOutput is the output listing the resources a complete apply
// leaves in the state (see MetaFile).
const CompleteOutput = "jit_complete"

// DeliveredVariable is the input variable (and sensitive output) through
// which jit records, in the state of a workspace whose template takes a
// password_verifier, the verifier of the password it delivered to the
// requester; "" while none was delivered. A later apply passes the same
// verifier again instead of issuing a new password (see MetaFile).
const DeliveredVariable = "jit_delivered_verifier"

// JitVariables are the input variables jit declares in every workspace
// (MetaFile) and sets itself: templates may not declare them, and a grant's
// scope may not set them.
var JitVariables = []string{MetaVariable, DeliveredVariable}

// IsJitVariable reports whether name is one of JitVariables.
func IsJitVariable(name string) bool {
	for _, v := range JitVariables {
		if v == name {
			return true
		}
	}
	return false
}

// MetaFileName is the name of the bookkeeping file added to the template.
const MetaFileName = "zz_jit.tf.json"

// VarsFileName is the name of a workspace's variables file.
const VarsFileName = "jit.tfvars.json"

// Meta is what jit records in each workspace's state, so that a grant whose
// file is gone can still be destroyed and reported. It never holds secrets.
type Meta struct {
	Grant     string         `json:"grant"`
	Template  string         `json:"template"`
	Requester string         `json:"requester"`
	ExpiresAt string         `json:"expires_at"`
	Scope     map[string]any `json:"scope"`
	// Target is the named target the grant was applied to ("" for the
	// controller's own environment), so that it is destroyed on the same
	// target after its file is gone.
	Target string `json:"target,omitempty"`
}

// MetaOf returns the bookkeeping record of req expiring at expires, on
// req.Target.
func MetaOf(req grant.Request, expires time.Time) Meta {
	return Meta{
		Grant:     req.ID,
		Template:  req.Template,
		Requester: req.Requester,
		ExpiresAt: expires.UTC().Format(time.RFC3339),
		Scope:     req.Scope,
		Target:    req.Target,
	}
}

// ParseMeta decodes the value of the MetaVariable output (a JSON string
// holding a JSON object).
func ParseMeta(raw []byte) (Meta, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return Meta{}, fmt.Errorf("jit bookkeeping output %s is not a string: %w", MetaVariable, err)
	}
	var m Meta
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Meta{}, fmt.Errorf("jit bookkeeping output %s: %w", MetaVariable, err)
	}
	if m.Grant == "" || m.Template == "" {
		return Meta{}, fmt.Errorf("jit bookkeeping output %s names no grant or template", MetaVariable)
	}
	return m, nil
}

// Vars is everything that goes into a workspace's variables file.
type Vars struct {
	Meta Meta
	// PasswordVerifier is the SCRAM-SHA-256 verifier of the grant's password
	// (never the password itself).
	PasswordVerifier string
	// DeliveredVerifier is PasswordVerifier once its password has been
	// delivered to the requester, "" before (see DeliveredVariable).
	DeliveredVerifier string
	// Declared lists the input variables the template declares; reserved
	// inputs it does not declare are left out.
	Declared map[string]bool
}

// VarsJSON renders the variables file: the grant's scope, the reserved
// inputs the template declares (grant_id, requester, expires_at in RFC 3339
// UTC, password_verifier), jit's bookkeeping record and, when the template
// declares password_verifier, DeliveredVariable. It refuses a scope that sets
// a reserved input or one of jit's own variables.
func VarsJSON(v Vars) ([]byte, error) {
	out := map[string]any{}
	keys := make([]string, 0, len(v.Meta.Scope))
	for k := range v.Meta.Scope {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if grant.IsReservedInput(k) || IsJitVariable(k) {
			return nil, fmt.Errorf("grant %s: scope sets %q, which jit supplies itself: remove it from the grant's scope", v.Meta.Grant, k)
		}
		out[k] = v.Meta.Scope[k]
	}
	reserved := map[string]string{
		"grant_id":          v.Meta.Grant,
		"requester":         v.Meta.Requester,
		"expires_at":        v.Meta.ExpiresAt,
		"password_verifier": v.PasswordVerifier,
	}
	for _, name := range grant.ReservedInputs {
		if v.Declared[name] {
			out[name] = reserved[name]
		}
	}
	meta, err := json.Marshal(v.Meta)
	if err != nil {
		return nil, fmt.Errorf("grant %s: encoding scope: %w", v.Meta.Grant, err)
	}
	out[MetaVariable] = string(meta)
	if v.Declared["password_verifier"] {
		out[DeliveredVariable] = v.DeliveredVerifier
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("grant %s: encoding variables: %w", v.Meta.Grant, err)
	}
	return append(b, '\n'), nil
}

// MetaFile renders jit's bookkeeping file, added next to the template's own
// files: it declares MetaVariable and records it as an output, and adds the
// CompleteOutput output, which depends on every resource and module address
// in deps (the template's top-level resources and modules) and whose value
// lists required, the resources (without count or for_each) that a complete
// apply leaves in the state. A workspace is completely applied when the
// output is present, every required resource is in the state and none is
// tainted: terraform records outputs even when an apply fails, so the
// output alone does not tell.
//
// When credential is set (the template declares password_verifier),
// MetaFile also declares DeliveredVariable and records it as a sensitive
// output of the same name.
func MetaFile(deps, required []string, credential bool) ([]byte, error) {
	if deps == nil {
		deps = []string{}
	}
	if required == nil {
		required = []string{}
	}
	variables := map[string]any{
		MetaVariable: map[string]any{
			"type":        "string",
			"description": "jit's bookkeeping record of the grant (JSON); set by jit, not by grants.",
		},
	}
	outputs := map[string]any{
		MetaVariable: map[string]any{
			"value": "${var." + MetaVariable + "}",
		},
		CompleteOutput: map[string]any{
			"value":      required,
			"depends_on": deps,
		},
	}
	if credential {
		variables[DeliveredVariable] = map[string]any{
			"type":        "string",
			"sensitive":   true,
			"description": "SCRAM verifier of the password jit delivered to the requester; empty before delivery. Set by jit, not by grants.",
		}
		outputs[DeliveredVariable] = map[string]any{
			"value":     "${var." + DeliveredVariable + "}",
			"sensitive": true,
		}
	}
	doc := map[string]any{"variable": variables, "output": outputs}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
