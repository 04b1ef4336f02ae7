package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/webhook"
)

// FuzzServeHTTP sends arbitrary bodies and headers: the handler never
// panics, always answers JSON with a status it documents, and calls Accept
// only when X-Hub-Signature-256 is the body's HMAC-SHA256 under the secret.
func FuzzServeHTTP(f *testing.F) {
	sign := func(b []byte) string { return "sha256=" + mac(sha256.New, []byte(secret), b) }
	f.Add("POST", "pull_request", "application/json", sign(openedPR), openedPR)
	f.Add("POST", "pull_request", "application/json", "sha256=00", openedPR)
	f.Add("POST", "ping", "application/json", vectorSig, []byte(vectorBody))
	f.Add("POST", "push", "application/json; charset=utf-8", sign([]byte(`{"ref":1}`)), []byte(`{"ref":1}`))
	f.Add("POST", "check_suite", "application/json", sign([]byte(`{"action":"requested","check_suite":{"pull_requests":[null]}}`)), []byte(`{"action":"requested","check_suite":{"pull_requests":[null]}}`))
	f.Add("POST", "pull_request_review", "application/json", sign([]byte(`{"action":"submitted","review":null}`)), []byte(`{"action":"submitted","review":null}`))
	f.Add("GET", "", "", "", []byte(nil))
	f.Add("POST", "installation", "text/plain", "sha1=abc", []byte("{}"))
	documented := map[int]bool{200: true, 202: true, 400: true, 401: true, 405: true, 413: true, 415: true, 500: true, 503: true}
	f.Fuzz(func(t *testing.T, method, event, contentType, sig string, body []byte) {
		if !validHeader(method) || !validHeader(event) || !validHeader(contentType) || !validHeader(sig) {
			return
		}
		accepted := false
		h := &webhook.Handler{Secret: []byte(secret), Accept: func(webhook.Event) error { accepted = true; return nil }}
		r := request(event, sig, "", body)
		r.Method = method
		r.Header.Set("Content-Type", contentType)
		w := serve(h, r)
		if !documented[w.Code] {
			t.Errorf("status %d is not one the handler documents", w.Code)
		}
		if !strings.HasPrefix(w.Body.String(), "{") {
			t.Errorf("reply is not JSON: %q", w.Body)
		}
		if accepted {
			want := hmac.New(sha256.New, []byte(secret))
			want.Write(body)
			// hex is case-insensitive; the "sha256=" prefix is not.
			if !strings.HasPrefix(sig, "sha256=") || strings.ToLower(sig[len("sha256="):]) != hex.EncodeToString(want.Sum(nil)) || method != http.MethodPost {
				t.Fatalf("Accept called for an unverified delivery (method %q, signature %q)", method, sig)
			}
		}
	})
}

// validHeader reports whether s can travel in an HTTP header (or method).
func validHeader(s string) bool {
	return !strings.ContainsAny(s, "\r\n\x00")
}
