package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jitops/jit/controller/ghemu/ghemutest"
	"github.com/jitops/jit/controller/webhook"
	"github.com/jitops/jit/controller/workqueue"
)

// GitHub's published test vector for X-Hub-Signature-256.
const (
	vectorSecret = "It's a Secret to Everybody"
	vectorBody   = "Hello, World!"
	vectorSig    = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

const secret = "a-webhook-secret-for-tests"

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// rig is a Handler with recording Accept, Observe and Logger.
type rig struct {
	h        *webhook.Handler
	mu       sync.Mutex
	events   []webhook.Event
	observed [][3]string
	logs     bytes.Buffer
	err      error // Accept's answer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{}
	r.h = &webhook.Handler{
		Secret: []byte(secret),
		Accept: func(ev webhook.Event) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, ev)
			return r.err
		},
		Observe: func(event, action, result string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.observed = append(r.observed, [3]string{event, action, result})
		},
		Logger: slog.New(slog.NewJSONHandler(&r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return now },
	}
	return r
}

func mac(f func() hash.Hash, key, body []byte) string {
	m := hmac.New(f, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// request builds a delivery of event with body and the given signature headers.
func request(event, sig256, sig1 string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-GitHub-Event", event)
	r.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	if sig256 != "" {
		r.Header.Set("X-Hub-Signature-256", sig256)
	}
	if sig1 != "" {
		r.Header.Set("X-Hub-Signature", sig1)
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// answer decodes the JSON reply.
func answer(t *testing.T, w *httptest.ResponseRecorder) (delivery, result, msg string) {
	t.Helper()
	var a struct{ Delivery, Result, Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("reply %q is not JSON: %v", w.Body.String(), err)
	}
	return a.Delivery, a.Result, a.Error
}

func TestGitHubTestVectorVerifies(t *testing.T) {
	rg := newRig(t)
	rg.h.Secret = []byte(vectorSecret)
	w := serve(rg.h, request("ping", vectorSig, "", []byte(vectorBody)))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
	}
	if d, res, _ := answer(t, w); d != "72d3162e-cc78-11e3-81ab-4c9367dc0958" || res != "pong" {
		t.Errorf("reply = %s", w.Body)
	}
	if diff := cmp.Diff([][3]string{{"ping", "", "pong"}}, rg.observed); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

func TestUnverifiedDeliveriesAreRefusedUnread(t *testing.T) {
	// The body would be a bad payload if it were parsed: a 401 shows it was not.
	body := []byte(`{"action":"opened","pull_request":`)
	key := []byte(secret)
	tests := map[string]struct{ sig256, sig1, secret string }{
		"no signature":                 {},
		"sha1 header only, valid":      {sig1: "sha1=" + mac(sha1.New, key, body)},
		"sha1 digest in sha256 header": {sig256: "sha1=" + mac(sha1.New, key, body)},
		"sha512 digest in sha256 header": {
			sig256: "sha512=" + mac(sha512.New, key, body)},
		"wrong secret":      {sig256: "sha256=" + mac(sha256.New, []byte("not-the-secret"), body)},
		"not hex":           {sig256: "sha256=zz"},
		"no prefix":         {sig256: mac(sha256.New, key, body)},
		"empty digest":      {sig256: "sha256="},
		"signature of more": {sig256: "sha256=" + mac(sha256.New, key, append(body, '}'))},
		"test vector, other secret": {
			sig256: vectorSig},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rg := newRig(t)
			w := serve(rg.h, request("pull_request", tc.sig256, tc.sig1, body))
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401; body %s", w.Code, w.Body)
			}
			if _, res, msg := answer(t, w); res != "bad-signature" || !strings.Contains(msg, "X-Hub-Signature-256") {
				t.Errorf("reply = %s", w.Body)
			}
			if len(rg.events) != 0 {
				t.Errorf("Accept called with %+v", rg.events)
			}
			if diff := cmp.Diff([][3]string{{"", "", "bad-signature"}}, rg.observed); diff != "" {
				t.Errorf("observed (-want +got):\n%s", diff)
			}
			if !strings.Contains(rg.logs.String(), `"level":"WARN"`) || !strings.Contains(rg.logs.String(), `"result":"bad-signature"`) {
				t.Errorf("log = %s", rg.logs.String())
			}
		})
	}
}

func TestABodyOverTheCapIsRefusedBeforeItsSignatureIsChecked(t *testing.T) {
	big := bytes.Repeat([]byte(" "), webhook.MaxBody+1)
	big[0] = '{'
	// Signed as the first MaxBody bytes: a handler that checked a truncated
	// body would find this signature good.
	truncatedSig := "sha256=" + mac(sha256.New, []byte(secret), big[:webhook.MaxBody])
	for name, length := range map[string]int64{"declared length": int64(len(big)), "chunked": -1} {
		t.Run(name, func(t *testing.T) {
			rg := newRig(t)
			r := request("ping", truncatedSig, "", big)
			r.ContentLength = length
			w := serve(rg.h, r)
			if w.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("status = %d, want 413; body %s", w.Code, w.Body)
			}
			if _, res, _ := answer(t, w); res != "too-large" {
				t.Errorf("reply = %s", w.Body)
			}
			if diff := cmp.Diff([][3]string{{"", "", "too-large"}}, rg.observed); diff != "" {
				t.Errorf("observed (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("exactly the cap", func(t *testing.T) {
		rg := newRig(t)
		body := big[:webhook.MaxBody]
		w := serve(rg.h, request("ping", truncatedSig, "", body))
		if w.Code != http.StatusOK {
			t.Errorf("status = %d, want 200 (a body of MaxBody is allowed); body %s", w.Code, w.Body)
		}
	})
}

// signed returns a delivery of event with body signed with the rig's secret.
func signed(event string, body []byte) *http.Request {
	return request(event, "sha256="+mac(sha256.New, []byte(secret), body), "", body)
}

var openedPR = readExample("pull_request/opened.payload.json")

// withContentType is a signed pull_request opened delivery of Content-Type ct.
func withContentType(ct string) func() *http.Request {
	return func() *http.Request {
		r := signed("pull_request", openedPR)
		r.Header.Set("Content-Type", ct)
		return r
	}
}

func TestAnswers(t *testing.T) {
	tests := map[string]struct {
		req       func() *http.Request
		noSecret  bool
		wantAll   bool // Wants takes everything
		acceptErr error
		status    int
		result    string
		msg       string
		accepted  bool
		observed  [3]string
		header    http.Header
	}{
		"GET": {
			req:    func() *http.Request { return httptest.NewRequest(http.MethodGet, "/webhook", nil) },
			status: http.StatusMethodNotAllowed, result: "bad-method", msg: "webhooks are POSTed",
			observed: [3]string{"", "", "bad-method"}, header: http.Header{"Allow": {"POST"}},
		},
		"no secret configured": {
			req: func() *http.Request { return signed("pull_request", openedPR) }, noSecret: true,
			status: http.StatusInternalServerError, result: "error", msg: "internal error; see jit's log",
			observed: [3]string{"", "", "error"},
		},
		"form-encoded": {
			req:    withContentType("application/x-www-form-urlencoded"),
			status: http.StatusUnsupportedMediaType, result: "bad-payload", msg: "Content-Type is not application/json; set the webhook's content type to JSON",
			observed: [3]string{"", "", "bad-payload"},
		},
		"json with charset": {
			req:    withContentType("application/json; charset=utf-8"),
			status: http.StatusAccepted, result: "accepted", accepted: true,
			observed: [3]string{"pull_request", "opened", "accepted"},
		},
		"no event header": {
			req:    func() *http.Request { return signed("", openedPR) },
			status: http.StatusBadRequest, result: "bad-payload", msg: "X-GitHub-Event is missing",
			observed: [3]string{"other", "", "bad-payload"},
		},
		"no delivery header": {
			req: func() *http.Request {
				r := signed("pull_request", openedPR)
				r.Header.Del("X-GitHub-Delivery")
				return r
			},
			status: http.StatusBadRequest, result: "bad-payload", msg: "X-GitHub-Delivery is missing",
			observed: [3]string{"pull_request", "", "bad-payload"},
		},
		"signed but not JSON": {
			req:    func() *http.Request { return signed("pull_request", []byte(`{"action":`)) },
			status: http.StatusBadRequest, result: "bad-payload", msg: "parsing the payload: ",
			observed: [3]string{"pull_request", "", "bad-payload"},
		},
		"unknown event": {
			req: func() *http.Request {
				return signed("issue_comment", readExample("issue_comment/created.payload.json"))
			},
			status: http.StatusAccepted, result: "ignored",
			observed: [3]string{"other", "", "ignored"},
		},
		"event go-github does not know": {
			req:    func() *http.Request { return signed("some_future_event", []byte(`{}`)) },
			status: http.StatusAccepted, result: "ignored",
			observed: [3]string{"other", "", "ignored"},
		},
		"event go-github does not know, under a custom Wants": {
			req: func() *http.Request { return signed("some_future_event", []byte(`{}`)) }, wantAll: true,
			status: http.StatusAccepted, result: "ignored",
			observed: [3]string{"other", "", "ignored"},
		},
		"issue_comment wanted by a custom Wants": {
			req: func() *http.Request {
				return signed("issue_comment", readExample("issue_comment/created.payload.json"))
			},
			wantAll: true, status: http.StatusAccepted, result: "accepted", accepted: true,
			observed: [3]string{"issue_comment", "created", "accepted"},
		},
		"unknown action": {
			req:    func() *http.Request { return signed("pull_request", withAction(openedPR, "labeled")) },
			status: http.StatusAccepted, result: "ignored",
			observed: [3]string{"pull_request", "other", "ignored"},
		},
		"queue full": {
			req: func() *http.Request { return signed("pull_request", openedPR) }, acceptErr: workqueue.ErrFull,
			status: http.StatusServiceUnavailable, result: "full", msg: "busy; retry later", accepted: true,
			observed: [3]string{"pull_request", "opened", "full"}, header: http.Header{"Retry-After": {"10"}},
		},
		"accept fails": {
			req: func() *http.Request { return signed("pull_request", openedPR) }, acceptErr: errors.New("secret internals"),
			status: http.StatusInternalServerError, result: "error", msg: "internal error; see jit's log", accepted: true,
			observed: [3]string{"pull_request", "opened", "error"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rg := newRig(t)
			rg.err = tc.acceptErr
			if tc.noSecret {
				rg.h.Secret = nil
			}
			if tc.wantAll {
				rg.h.Wants = func(string, string) bool { return true }
			}
			w := serve(rg.h, tc.req())
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d; body %s", w.Code, tc.status, w.Body)
			}
			_, res, msg := answer(t, w)
			if res != tc.result || !strings.HasPrefix(msg, tc.msg) || (tc.msg == "" && msg != "") {
				t.Errorf("reply = %s, want result %q error %q", w.Body, tc.result, tc.msg)
			}
			if got := len(rg.events) > 0; got != tc.accepted {
				t.Errorf("Accept called: %v, want %v", got, tc.accepted)
			}
			if diff := cmp.Diff([][3]string{tc.observed}, rg.observed); diff != "" {
				t.Errorf("observed (-want +got):\n%s", diff)
			}
			for k, v := range tc.header {
				if got := w.Header().Values(k); !cmp.Equal(got, v) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
		})
	}
}

func TestEveryDeliveryIsLoggedOnceWithItsFields(t *testing.T) {
	rg := newRig(t)
	rg.h.Logger = slog.New(slog.NewJSONHandler(&rg.logs, nil)) // info: ignored deliveries are debug
	serve(rg.h, signed("pull_request", openedPR))
	serve(rg.h, signed("pull_request", withAction(openedPR, "labeled")))
	lines := strings.Split(strings.TrimSpace(rg.logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("log lines = %d, want 1 (ignored is debug):\n%s", len(lines), rg.logs.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"level": "INFO", "msg": "webhook", "delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		"event": "pull_request", "action": "opened", "pr": float64(2), "result": "accepted", "repo": "Codertocat/Hello-World"}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "time" })); diff != "" {
		t.Errorf("log line (-want +got):\n%s", diff)
	}
	if strings.Contains(rg.logs.String(), secret) || strings.Contains(rg.logs.String(), "Hello-World\",\"full_name") {
		t.Errorf("log holds the secret or the body: %s", rg.logs.String())
	}
}

// readExample returns one of GitHub's example payloads the emulator's
// contract tests keep.
func readExample(name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "ghemu", "contract", "testdata", "examples", name))
	if err != nil {
		panic(err)
	}
	return b
}

// edit returns payload with f applied to its decoded top-level object.
func edit(payload []byte, f func(map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		panic(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func withAction(payload []byte, action string) []byte {
	return edit(payload, func(m map[string]any) { m["action"] = action })
}

func TestEventFields(t *testing.T) {
	const hwRepo = "Codertocat/Hello-World"
	tests := map[string]struct {
		event   string
		payload []byte
		want    webhook.Event
	}{
		"pull_request opened": {"pull_request", openedPR, webhook.Event{Name: "pull_request", Action: "opened",
			Installation: 1, Repo: hwRepo, PullRequests: []int{2}, HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", Sender: "Codertocat"}},
		"pull_request synchronize": {"pull_request", readExample("pull_request/synchronize.payload.json"), webhook.Event{Name: "pull_request", Action: "synchronize",
			Installation: 1, Repo: hwRepo, PullRequests: []int{2}, HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", Sender: "Codertocat"}},
		"pull_request edited": {"pull_request", withAction(openedPR, "edited"), webhook.Event{Name: "pull_request", Action: "edited",
			Installation: 1, Repo: hwRepo, PullRequests: []int{2}, HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", Sender: "Codertocat"}},
		"pull_request closed": {"pull_request", readExample("pull_request/closed.payload.json"), webhook.Event{Name: "pull_request", Action: "closed",
			Installation: 1, Repo: hwRepo, PullRequests: []int{2}, HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", Sender: "Codertocat"}},
		"check_suite requested": {"check_suite", readExample("check_suite/requested.payload.json"), webhook.Event{Name: "check_suite", Action: "requested",
			Installation: 957387, Repo: hwRepo, HeadSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", Sender: "Codertocat"}},
		"check_suite rerequested, with pull requests of this and another repository": {"check_suite", edit(readExample("check_suite/requested.payload.json"), func(m map[string]any) {
			m["action"] = "rerequested"
			m["check_suite"].(map[string]any)["pull_requests"] = []any{prRef(7, 186853002), prRef(9, 555)}
		}), webhook.Event{Name: "check_suite", Action: "rerequested",
			Installation: 957387, Repo: hwRepo, PullRequests: []int{7}, HeadSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", Sender: "Codertocat"}},
		"check_run rerequested": {"check_run", withAction(readExample("check_run/created.payload.json"), "rerequested"), webhook.Event{Name: "check_run", Action: "rerequested",
			Repo: hwRepo, PullRequests: []int{2}, HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", Sender: "Codertocat"}},
		"push": {"push", readExample("push/payload.json"), webhook.Event{Name: "push",
			Repo: hwRepo, Ref: "refs/tags/simple-tag", Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", After: "0000000000000000000000000000000000000000", Sender: "Codertocat"}},
		"installation created": {"installation", readExample("installation/created.payload.json"), webhook.Event{Name: "installation", Action: "created",
			Installation: 957387, Sender: "Codertocat"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rg := newRig(t)
			w := ghemutest.Deliver(t, rg.h, secret, tc.event, tc.payload)
			if w.Code != http.StatusAccepted {
				t.Fatalf("status = %d, want 202; body %s", w.Code, w.Body)
			}
			if len(rg.events) != 1 {
				t.Fatalf("Accept called %d times", len(rg.events))
			}
			got := rg.events[0]
			if got.Payload == nil || got.Delivery == "" || !got.Received.Equal(now) {
				t.Errorf("Payload %T, Delivery %q, Received %v", got.Payload, got.Delivery, got.Received)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(webhook.Event{}, "Delivery", "Payload", "Received")); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

// prRef is a check's pull_requests entry for number with its base in repository id.
func prRef(number, repoID int) map[string]any {
	ref := func() map[string]any {
		return map[string]any{"ref": "main", "sha": strings.Repeat("a", 40), "repo": map[string]any{"id": repoID, "url": "https://api.github.com/repos/x/y", "name": "y"}}
	}
	return map[string]any{"id": number * 100, "number": number, "url": "https://api.github.com/repos/x/y/pulls/1", "head": ref(), "base": ref()}
}

func TestWanted(t *testing.T) {
	want := []string{"check_run", "check_suite", "installation", "installation_repositories", "pull_request", "pull_request_review", "push"}
	if diff := cmp.Diff(want, webhook.WantedEvents()); diff != "" {
		t.Errorf("WantedEvents (-want +got):\n%s", diff)
	}
	tests := map[string]struct {
		event, action string
		want          bool
	}{
		"push has no action":           {"push", "", true},
		"review dismissed":             {"pull_request_review", "dismissed", true},
		"pull request reopened":        {"pull_request", "reopened", true},
		"pull request labeled":         {"pull_request", "labeled", false},
		"check run completed":          {"check_run", "completed", false},
		"ping is answered, not wanted": {"ping", "", false},
		"pull request without action":  {"pull_request", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := webhook.Wanted(tc.event, tc.action); got != tc.want {
				t.Errorf("Wanted(%q, %q) = %v", tc.event, tc.action, got)
			}
		})
	}
}
