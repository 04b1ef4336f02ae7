package contract

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed testdata/webhook-payloads.schema.json
var webhookBundle []byte

// Webhooks holds GitHub's webhook payload schemas (JSON Schema 2020-12), one
// per event and action, ready to check payloads. It is safe for concurrent use.
type Webhooks struct {
	schemas map[hookKey]*jsonschema.Schema
}

// hookKey names a payload schema: the X-GitHub-Event value and the payload's
// action ("" for push and ping).
type hookKey struct{ event, action string }

func (k hookKey) String() string {
	if k.action == "" {
		return k.event
	}
	return k.event + "." + k.action
}

var loadWebhooks = sync.OnceValues(func() (*Webhooks, error) { return ParseWebhooks(webhookBundle) })

// LoadWebhooks returns the embedded webhook schemas, compiled on first use
// and shared by every later call in the process.
func LoadWebhooks() (*Webhooks, error) { return loadWebhooks() }

// ParseWebhooks compiles a JSON Schema 2020-12 bundle whose "x-webhook-index"
// maps each webhook to {x_github_event, action, schema}. Formats (date-time,
// uri, email, ...) are asserted, not just annotated. Most callers want
// LoadWebhooks.
func ParseWebhooks(data []byte) (*Webhooks, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing GitHub's webhook schemas: %w", err)
	}
	var head struct {
		ID    string `json:"$id"`
		Index map[string]struct {
			Event  string  `json:"x_github_event"`
			Action *string `json:"action"`
			Schema string  `json:"schema"`
		} `json:"x-webhook-index"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("reading x-webhook-index of GitHub's webhook schemas: %w", err)
	}
	if head.ID == "" || len(head.Index) == 0 {
		return nil, errors.New("webhook schema bundle: it needs an $id and a non-empty x-webhook-index")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: func(v any) error {
		if s, ok := v.(string); ok {
			return validateURITemplate(s)
		}
		return nil
	}})
	if err := c.AddResource(head.ID, doc); err != nil {
		return nil, fmt.Errorf("adding GitHub's webhook schemas: %w", err)
	}
	w := &Webhooks{schemas: make(map[hookKey]*jsonschema.Schema, len(head.Index))}
	for name, e := range head.Index {
		k := hookKey{event: e.Event}
		if e.Action != nil {
			k.action = *e.Action
		}
		sch, err := c.Compile(head.ID + e.Schema)
		if err != nil {
			return nil, fmt.Errorf("compiling webhook schema %s (%s): %w", name, e.Schema, err)
		}
		w.schemas[k] = sch
	}
	return w, nil
}

// Events lists the event/action pairs the schemas cover, as "event.action"
// (or "event" for push and ping), sorted.
func (w *Webhooks) Events() []string {
	out := make([]string, 0, len(w.schemas))
	for k := range w.schemas {
		out = append(out, k.String())
	}
	sort.Strings(out)
	return out
}

// ValidatePayload checks body, delivered with X-GitHub-Event event, against
// GitHub's schema for event and action (action is "" for push and ping). It
// returns an error for an unknown pair, a body that is not JSON, and a body
// that breaks the schema; the last is an *Error with the JSON pointer of
// every violation.
func (w *Webhooks) ValidatePayload(event, action string, body []byte) error {
	k := hookKey{event, action}
	sch, ok := w.schemas[k]
	if !ok {
		return fmt.Errorf("webhook %s: GitHub's schemas have no such event and action (known: %s)", k, strings.Join(w.Events(), ", "))
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: payload is not JSON: %w", k, err)
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return &Error{Subject: "webhook " + k.String(), Violations: sortViolations(hookViolations(ve))}
	}
	if err != nil {
		return fmt.Errorf("webhook %s: %w", k, err)
	}
	return nil
}

var printer = message.NewPrinter(language.English)

// hookViolations lists the leaves of a validation error tree, which say
// what is wrong where; inner nodes only say "some subschema failed".
func hookViolations(ve *jsonschema.ValidationError) []Violation {
	var out []Violation
	seen := map[Violation]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			vs := []Violation{{Pointer: pointer(e.InstanceLocation), Msg: e.ErrorKind.LocalizedString(printer)}}
			// Point at each missing property, as the REST errors do.
			if req, ok := e.ErrorKind.(*kind.Required); ok {
				vs = vs[:0]
				for _, p := range req.Missing {
					vs = append(vs, Violation{
						Pointer: pointer(append(slices.Clone(e.InstanceLocation), p)),
						Msg:     fmt.Sprintf("property %q is missing", p),
					})
				}
			}
			for _, v := range vs {
				if !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}
