package contract_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/ghemu/contract"
)

func loadWebhooks(t testing.TB) *contract.Webhooks {
	t.Helper()
	w, err := contract.LoadWebhooks()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// ajvVerdict is one entry of testdata/examples-validation.json: how ajv 8
// (JSON Schema 2020-12, formats on) judged an octokit/webhooks example.
type ajvVerdict struct {
	File   string   `json:"file"`
	Event  string   `json:"event"`
	Action *string  `json:"action"`
	Valid  bool     `json:"valid"`
	Errors []string `json:"errors"`
}

// TestExamplesAgreeWithAjv requires the same verdict as an independent
// validator on every example payload copied into testdata/examples.
func TestExamplesAgreeWithAjv(t *testing.T) {
	w := loadWebhooks(t)
	data, err := os.ReadFile("testdata/examples-validation.json")
	if err != nil {
		t.Fatal(err)
	}
	var verdicts []ajvVerdict
	if err := json.Unmarshal(data, &verdicts); err != nil {
		t.Fatal(err)
	}
	copied, err := filepath.Glob("testdata/examples/*/*.json")
	if err != nil || len(copied) == 0 {
		t.Fatalf("no examples under testdata/examples (%v)", err)
	}
	byFile := map[string]ajvVerdict{}
	for _, v := range verdicts {
		byFile[v.File] = v
	}
	valid, invalid := 0, 0
	for _, path := range copied {
		rel := strings.TrimPrefix(filepath.ToSlash(path), "testdata/examples/")
		t.Run(rel, func(t *testing.T) {
			v, ok := byFile[rel]
			if !ok {
				t.Fatalf("%s is not in examples-validation.json", rel)
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			action := ""
			if v.Action != nil {
				action = *v.Action
			}
			err = w.ValidatePayload(v.Event, action, body)
			if v.Valid {
				valid++
				if err != nil {
					t.Errorf("ajv accepts it, we reject it: %v", err)
				}
				return
			}
			invalid++
			if err == nil {
				t.Fatalf("ajv rejects it (%q), we accept it", v.Errors)
			}
			// ajv reports "/repository must have required property 'has_discussions' (has_discussions)";
			// we point at the missing property itself. The sets must be equal.
			var want []string
			for _, ajvErr := range v.Errors {
				loc, _, _ := strings.Cut(ajvErr, " ")
				if _, prop, ok := strings.Cut(ajvErr, "required property '"); ok {
					loc += "/" + strings.TrimSuffix(strings.Fields(prop)[0], "'")
				}
				want = append(want, loc)
			}
			slices.Sort(want)
			if diff := cmp.Diff(want, pointers(err)); diff != "" {
				t.Errorf("violations differ from ajv's (-ajv +ours):\n%s\n%v", diff, err)
			}
		})
	}
	if valid < 10 || invalid < 2 {
		t.Errorf("checked %d valid and %d invalid examples; want at least 10 and 2", valid, invalid)
	}
}

func TestValidatePayloadBites(t *testing.T) {
	w := loadWebhooks(t)
	opened, err := os.ReadFile("testdata/examples/pull_request/opened.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	ping, err := os.ReadFile("testdata/examples/ping/payload.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		event, action string
		body          []byte
		change        func(m map[string]any)
		wantErr       string // "" means valid
	}{
		"opened as is":       {event: "pull_request", action: "opened", body: opened},
		"ping has no action": {event: "ping", body: ping},
		"extra property is allowed": {event: "pull_request", action: "opened", body: opened,
			change: func(m map[string]any) { m["x_emulator"] = true }},
		"number as string": {event: "pull_request", action: "opened", body: opened,
			change:  func(m map[string]any) { m["number"] = "2" },
			wantErr: "webhook pull_request.opened: does not match GitHub's schema: at /number: got string, want integer"},
		"action missing": {event: "pull_request", action: "opened", body: opened,
			change:  func(m map[string]any) { delete(m, "action") },
			wantErr: "at /action: property \"action\" is missing"},
		"action of another event": {event: "pull_request", action: "opened", body: opened,
			change:  func(m map[string]any) { m["action"] = "closed" },
			wantErr: "at /action: value must be 'opened'"},
		"nested required field missing": {event: "pull_request", action: "opened", body: opened,
			change:  func(m map[string]any) { delete(m["pull_request"].(map[string]any)["head"].(map[string]any), "sha") },
			wantErr: "at /pull_request/head/sha: property \"sha\" is missing"},
		"date-time format asserted": {event: "pull_request", action: "opened", body: opened,
			change:  func(m map[string]any) { m["pull_request"].(map[string]any)["created_at"] = "2019-05-15 15:20:33" },
			wantErr: "at /pull_request/created_at: '2019-05-15 15:20:33' is not valid date-time"},
		"uri format asserted": {event: "pull_request", action: "opened", body: opened,
			change:  func(m map[string]any) { m["pull_request"].(map[string]any)["html_url"] = "not a uri" },
			wantErr: "at /pull_request/html_url: 'not a uri' is not valid uri"},
		"wrong event for the payload": {event: "push", body: opened,
			wantErr: "webhook push: does not match GitHub's schema"},
		"unknown action": {event: "pull_request", action: "teleported", body: opened,
			wantErr: "webhook pull_request.teleported: GitHub's schemas have no such event and action (known: check_run.completed,"},
		"unknown event": {event: "deployment", action: "created", body: opened,
			wantErr: "webhook deployment.created: GitHub's schemas have no such event and action"},
		"push given an action": {event: "push", action: "created", body: opened,
			wantErr: "webhook push.created: GitHub's schemas have no such event and action"},
		"not JSON": {event: "ping", body: []byte(`{"zen":`),
			wantErr: "webhook ping: payload is not JSON: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body := tc.body
			if tc.change != nil {
				body = mutate(t, body, tc.change)
			}
			err := w.ValidatePayload(tc.event, tc.action, body)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("valid payload rejected: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("invalid payload accepted, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q\ndoes not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidatePayloadErrorIsTyped(t *testing.T) {
	w := loadWebhooks(t)
	err := w.ValidatePayload("ping", "", []byte(`{"zen":1,"hook_id":"x"}`))
	var ce *contract.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is %T, want *contract.Error", err, err)
	}
	got := map[string]bool{}
	for _, v := range ce.Violations {
		got[v.Pointer] = true
	}
	for _, want := range []string{"/zen", "/hook_id"} {
		if !got[want] {
			t.Errorf("violations %+v lack pointer %s", ce.Violations, want)
		}
	}
}

func TestWebhooksCoverTheControllersEvents(t *testing.T) {
	w := loadWebhooks(t)
	have := map[string]bool{}
	for _, e := range w.Events() {
		have[e] = true
	}
	for _, want := range []string{"pull_request.opened", "pull_request.synchronize", "pull_request.closed",
		"pull_request.edited", "pull_request_review.submitted", "pull_request_review.dismissed", "push",
		"check_run.created", "check_run.completed", "check_run.rerequested", "installation.created",
		"issue_comment.created", "ping"} {
		if !have[want] {
			t.Errorf("Events() lacks %s", want)
		}
	}
}

// BenchmarkValidatePayloadPullRequest is the cost per emitted pull_request
// webhook (about 28 KB of JSON).
func BenchmarkValidatePayloadPullRequest(b *testing.B) {
	w := loadWebhooks(b)
	body, err := os.ReadFile("testdata/examples/pull_request/opened.payload.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := w.ValidatePayload("pull_request", "opened", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseWebhooks is the one-time cost of LoadWebhooks.
func BenchmarkParseWebhooks(b *testing.B) {
	data, err := os.ReadFile("testdata/webhook-payloads.schema.json")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := contract.ParseWebhooks(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzValidatePayload: never panics, and every rejection names the webhook.
func FuzzValidatePayload(f *testing.F) {
	f.Add("ping", "", []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`))
	f.Add("pull_request", "opened", []byte(`{"action":"opened","number":1}`))
	f.Add("push", "", []byte(`[]`))
	f.Add("issue_comment", "created", []byte(`{"action":"created","comment":{"body":null}}`))
	f.Add("check_run", "completed", []byte(`{"action":"completed","check_run":{"conclusion":"success"}}`))
	w, err := contract.LoadWebhooks()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event, action string, body []byte) {
		err := w.ValidatePayload(event, action, body)
		if err != nil && !strings.HasPrefix(err.Error(), "webhook "+event) {
			t.Errorf("error %q does not name webhook %s", err, event)
		}
	})
}
