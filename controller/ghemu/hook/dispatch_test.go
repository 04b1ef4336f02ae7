package hook_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu/hook"
)

var secret = []byte("test-secret")

// hit is one request as a receiver saw it.
type hit struct {
	header http.Header
	body   []byte
	// sigErr is go-github's verdict on the signature (nil when valid).
	sigErr error
}

// receiver is a webhook endpoint that checks signatures the way the App does
// (go-github's ValidatePayload) and answers with respond's status.
type receiver struct {
	*httptest.Server
	respond func(n int, r *http.Request) int // n counts requests from 1

	mu   sync.Mutex
	hits []hit
}

func newReceiver(t *testing.T, respond func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := github.ValidatePayload(r, secret)
		if err != nil {
			payload, _ = io.ReadAll(r.Body)
		}
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{header: r.Header.Clone(), body: payload, sigErr: err})
		n := len(rc.hits)
		rc.mu.Unlock()
		status := http.StatusNoContent
		if rc.respond != nil {
			status = rc.respond(n, r)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func newDispatcher(t *testing.T, cfg hook.Config) *hook.Dispatcher {
	t.Helper()
	d := hook.NewDispatcher(cfg)
	t.Cleanup(d.Close)
	return d
}

func wait(t *testing.T, d *hook.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

var guidFormat = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestDeliveryHeadersAndSignature(t *testing.T) {
	rc := newReceiver(t, nil)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	d := newDispatcher(t, hook.Config{Secret: secret, HookID: 4711, TargetType: "integration", TargetID: 42,
		Now: func() time.Time { return now }})
	payload := []byte(`{"action":"opened","number":7}`)
	guid := d.Enqueue(rc.URL+"/webhook", "pull_request", payload)
	wait(t, d)

	if !guidFormat.MatchString(guid) {
		t.Errorf("GUID %q is not a lowercase UUID v4 like GitHub's", guid)
	}
	hits := rc.got()
	if len(hits) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(hits))
	}
	h := hits[0]
	if h.sigErr != nil {
		t.Errorf("go-github ValidatePayload: %v", h.sigErr)
	}
	if string(h.body) != string(payload) {
		t.Errorf("body = %s, want %s", h.body, payload)
	}
	want := map[string]string{
		"X-GitHub-Event":                         "pull_request",
		"X-GitHub-Delivery":                      guid,
		"X-GitHub-Hook-ID":                       "4711",
		"X-GitHub-Hook-Installation-Target-Type": "integration",
		"X-GitHub-Hook-Installation-Target-ID":   "42",
		"X-Hub-Signature-256":                    hook.Sign(secret, payload),
		"X-Hub-Signature":                        hook.SignSHA1(secret, payload),
		"Content-Type":                           "application/json",
	}
	for k, v := range want {
		if got := h.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if ua := h.header.Get("User-Agent"); !regexp.MustCompile(`^GitHub-Hookshot/[0-9a-f]+$`).MatchString(ua) {
		t.Errorf("User-Agent = %q, want GitHub-Hookshot/<hex>", ua)
	}
	if got := github.WebHookType(&http.Request{Header: h.header}); got != "pull_request" {
		t.Errorf("go-github WebHookType = %q", got)
	}
	if got := github.DeliveryID(&http.Request{Header: h.header}); got != guid {
		t.Errorf("go-github DeliveryID = %q, want %q", got, guid)
	}

	dels := d.Deliveries()
	if len(dels) != 1 {
		t.Fatalf("Deliveries() has %d entries, want 1", len(dels))
	}
	del := dels[0]
	if !del.OK() || del.StatusCode != http.StatusNoContent || del.Error != "" {
		t.Errorf("delivery = status %d error %q, want 204 and no error", del.StatusCode, del.Error)
	}
	if del.GUID != guid || del.Event != "pull_request" || del.Action != "opened" || del.Redelivery ||
		!del.DeliveredAt.Equal(now) || del.URL != rc.URL+"/webhook" || string(del.Payload) != string(payload) {
		t.Errorf("delivery log entry = %+v", del)
	}
	for k, v := range want {
		if got := del.RequestHeaders.Get(k); got != v {
			t.Errorf("logged request header %s = %q, want %q", k, got, v)
		}
	}
}

// TestHeadersSpelledAsGitHubOnTheWire reads the raw request, because Go's
// server canonicalises names ("X-Github-Event") before a handler sees them.
func TestHeadersSpelledAsGitHubOnTheWire(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	names := make(chan []string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			names <- nil
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		var got []string
		for {
			line, err := br.ReadString('\n')
			line = strings.TrimRight(line, "\r\n")
			if err != nil || line == "" {
				break
			}
			if name, _, ok := strings.Cut(line, ":"); ok {
				got = append(got, name)
			}
		}
		names <- got
		fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	}()
	d := newDispatcher(t, hook.Config{Secret: secret, HookID: 1, TargetID: 2})
	d.Enqueue("http://"+ln.Addr().String()+"/", "ping", []byte(`{"zen":"Keep it logically awesome."}`))
	wait(t, d)
	got := <-names
	for _, want := range []string{"X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID",
		"X-GitHub-Hook-Installation-Target-Type", "X-GitHub-Hook-Installation-Target-ID",
		"X-Hub-Signature-256", "X-Hub-Signature", "User-Agent", "Content-Type"} {
		found := false
		for _, n := range got {
			found = found || n == want
		}
		if !found {
			t.Errorf("header %q not sent with that spelling; request had %q", want, got)
		}
	}
	if del := d.Deliveries()[0]; !del.OK() || del.Action != "" || del.Event != "ping" {
		t.Errorf("ping delivery = %+v, want OK with no action", del)
	}
}

func TestNoSecretMeansNoSignatureHeaders(t *testing.T) {
	rc := newReceiver(t, nil)
	d := newDispatcher(t, hook.Config{})
	d.Enqueue(rc.URL, "push", []byte(`{"ref":"refs/heads/main"}`))
	wait(t, d)
	h := rc.got()[0].header
	for _, k := range []string{"X-Hub-Signature-256", "X-Hub-Signature"} {
		if v, ok := h[k]; ok {
			t.Errorf("header %s = %q sent without a secret", k, v)
		}
	}
	if got := h.Get("X-GitHub-Hook-Installation-Target-Type"); got != "repository" {
		t.Errorf("default target type = %q, want repository", got)
	}
}

func TestDeliveriesArriveInOrderPerURL(t *testing.T) {
	a := newReceiver(t, nil)
	b := newReceiver(t, nil)
	d := newDispatcher(t, hook.Config{Secret: secret})
	const n = 50
	var want []string
	for i := range n {
		body := []byte(`{"action":"synchronize","number":` + strconv.Itoa(i) + `}`)
		want = append(want, string(body))
		d.Enqueue(a.URL, "pull_request", body)
		d.Enqueue(b.URL, "pull_request", body)
	}
	wait(t, d)
	for name, rc := range map[string]*receiver{"a": a, "b": b} {
		var got []string
		for _, h := range rc.got() {
			got = append(got, string(h.body))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("receiver %s: order differs (-enqueued +received):\n%s", name, diff)
		}
	}
	dels := d.Deliveries()
	if len(dels) != 2*n {
		t.Fatalf("log has %d entries, want %d", len(dels), 2*n)
	}
	for i := 1; i < len(dels); i++ {
		if dels[i].ID <= dels[i-1].ID {
			t.Fatalf("log not ordered by increasing ID at %d: %d after %d", i, dels[i].ID, dels[i-1].ID)
		}
	}
}

func TestFailedDeliveryIsRecordedAndNotRetried(t *testing.T) {
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/"
	}()
	release := make(chan struct{})
	defer close(release)
	tests := map[string]struct {
		respond   func(n int, r *http.Request) int
		url       func(rc *receiver) string
		wantErr   string
		wantCode  int
		wantCalls int
	}{
		"500": {
			respond:   func(int, *http.Request) int { return http.StatusInternalServerError },
			wantErr:   "invalid HTTP response: 500",
			wantCode:  500,
			wantCalls: 1,
		},
		"redirect is not followed": {
			respond: func(_ int, r *http.Request) int {
				if r.URL.Path == "/moved" {
					return http.StatusOK
				}
				return http.StatusFound
			},
			wantErr:   "invalid HTTP response: 302",
			wantCode:  302,
			wantCalls: 1,
		},
		"timeout": {
			respond: func(_ int, r *http.Request) int {
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return http.StatusOK
			},
			wantErr:   "timed out after 50ms",
			wantCalls: 1,
		},
		"connection refused": {
			url:       func(*receiver) string { return refused },
			wantErr:   "connection refused",
			wantCalls: 0,
		},
		"bad URL": {
			url:       func(*receiver) string { return "http://bad host/" },
			wantErr:   `building request for "http://bad host/"`,
			wantCalls: 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t, tc.respond)
			url := rc.URL + "/hook"
			if tc.url != nil {
				url = tc.url(rc)
			}
			// Only the case about the time limit gets a short one: on a busy
			// machine 50ms is not enough for an ordinary answer.
			timeout := 10 * time.Second
			if strings.HasPrefix(tc.wantErr, "timed out") {
				timeout = 50 * time.Millisecond
			}
			d := newDispatcher(t, hook.Config{Secret: secret, Timeout: timeout})
			d.Enqueue(url, "check_run", []byte(`{"action":"created"}`))
			wait(t, d)
			dels := d.Deliveries()
			if len(dels) != 1 {
				t.Fatalf("log has %d entries, want 1 (no retry)", len(dels))
			}
			del := dels[0]
			if del.OK() || !strings.Contains(del.Error, tc.wantErr) || del.StatusCode != tc.wantCode {
				t.Errorf("delivery = status %d error %q, want status %d and error containing %q",
					del.StatusCode, del.Error, tc.wantCode, tc.wantErr)
			}
			if del.Action != "created" {
				t.Errorf("Action = %q, want created", del.Action)
			}
			if got := len(rc.got()); got != tc.wantCalls {
				t.Errorf("receiver got %d requests, want %d (GitHub does not retry)", got, tc.wantCalls)
			}
		})
	}
}

func TestRedeliverKeepsGUID(t *testing.T) {
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	})
	d := newDispatcher(t, hook.Config{Secret: secret, HookID: 9})
	payload := []byte(`{"action":"submitted","review":{"state":"approved"}}`)
	guid := d.Enqueue(rc.URL, "pull_request_review", payload)
	wait(t, d)
	first := d.Deliveries()[0]
	if first.OK() {
		t.Fatalf("first delivery succeeded; the receiver should have answered 503")
	}

	again, err := d.Redeliver(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !again.OK() || !again.Redelivery || again.GUID != guid || again.ID <= first.ID || again.StatusCode != http.StatusAccepted {
		t.Errorf("redelivery = %+v, want OK, Redelivery, GUID %s, a higher ID", again, guid)
	}
	hits := rc.got()
	if len(hits) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(hits))
	}
	if a, b := hits[0].header.Get("X-GitHub-Delivery"), hits[1].header.Get("X-GitHub-Delivery"); a != b || a != guid {
		t.Errorf("X-GitHub-Delivery: original %q, redelivery %q, want both %q", a, b, guid)
	}
	if hits[1].sigErr != nil || string(hits[1].body) != string(payload) {
		t.Errorf("redelivered body %s (signature error %v), want the original body, validly signed", hits[1].body, hits[1].sigErr)
	}
	if dels := d.Deliveries(); len(dels) != 2 || dels[1].ID != again.ID || !dels[1].Redelivery || dels[0].Redelivery {
		t.Errorf("log = %+v, want the original then the redelivery", dels)
	}
	if got, ok := d.Delivery(again.ID); !ok || got.GUID != guid {
		t.Errorf("Delivery(%d) = %+v, %v", again.ID, got, ok)
	}
}

func TestRedeliverUnknownID(t *testing.T) {
	d := newDispatcher(t, hook.Config{})
	_, err := d.Redeliver(context.Background(), 99)
	if !errors.Is(err, hook.ErrUnknownDelivery) || !strings.Contains(err.Error(), "redelivering 99") {
		t.Errorf("Redeliver(99) error = %v, want ErrUnknownDelivery naming the id", err)
	}
}

func TestCloseCancelsInFlightAndRecordsQueuedAsFailed(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	defer close(release)
	rc := newReceiver(t, func(n int, r *http.Request) int {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return http.StatusOK
	})
	d := hook.NewDispatcher(hook.Config{Secret: secret})
	for i := range 3 {
		d.Enqueue(rc.URL, "push", []byte(`{"n":`+strconv.Itoa(i)+`}`))
	}
	<-entered // the first delivery is in flight
	d.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Wait(ctx); err != nil {
		t.Fatalf("Wait after Close: %v", err)
	}
	d.Enqueue(rc.URL, "push", []byte(`{"n":3}`))
	dels := d.Deliveries()
	if len(dels) != 4 {
		t.Fatalf("log has %d entries, want 4: %+v", len(dels), dels)
	}
	wantErr := []string{"webhook dispatcher closed during delivery", "webhook dispatcher closed before delivery",
		"webhook dispatcher closed before delivery", "webhook dispatcher closed"}
	for i, del := range dels {
		if del.OK() || !strings.HasPrefix(del.Error, wantErr[i]) {
			t.Errorf("delivery %d error = %q, want prefix %q", i, del.Error, wantErr[i])
		}
	}
	if got := len(rc.got()); got != 1 {
		t.Errorf("receiver got %d requests, want only the one in flight", got)
	}
	if _, err := d.Redeliver(context.Background(), dels[0].ID); !errors.Is(err, hook.ErrClosed) {
		t.Errorf("Redeliver after Close: %v, want ErrClosed", err)
	}
	d.Close() // idempotent
}

func TestWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(int, *http.Request) int { <-release; return http.StatusOK })
	d := newDispatcher(t, hook.Config{})
	d.Enqueue(rc.URL, "push", []byte(`{}`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait(cancelled ctx) = %v, want context.Canceled", err)
	}
	close(release)
	wait(t, d)
	if n := len(d.Deliveries()); n != 1 {
		t.Errorf("log has %d entries after Wait, want 1", n)
	}
}

func TestOversizedPayloadIsNotDelivered(t *testing.T) {
	rc := newReceiver(t, nil)
	d := newDispatcher(t, hook.Config{Secret: secret})
	big := make([]byte, hook.MaxPayload+1)
	d.Enqueue(rc.URL, "push", big)
	wait(t, d)
	del := d.Deliveries()[0]
	if del.OK() || !strings.Contains(del.Error, "over GitHub's 26214400-byte cap; not delivered") {
		t.Errorf("delivery error = %q, want the 25 MB cap", del.Error)
	}
	if n := len(rc.got()); n != 0 {
		t.Errorf("receiver got %d requests, want 0", n)
	}
}

func TestActionIsTheTopLevelActionString(t *testing.T) {
	rc := newReceiver(t, nil)
	tests := map[string]struct {
		payload string
		want    string
	}{
		"top-level action":               {`{"action":"closed","pull_request":{"action":"x"}}`, "closed"},
		"nested action only":             {`{"pull_request":{"action":"x"}}`, ""},
		"push has none":                  {`{"ref":"refs/heads/main","before":"a","after":"b"}`, ""},
		"action not a string":            {`{"action":7}`, ""},
		"not JSON":                       {`action=opened`, ""},
		"JSON array":                     {`[{"action":"opened"}]`, ""},
		"escaped characters are decoded": {`{"action":"re\u0071uested"}`, "requested"},
	}
	d := newDispatcher(t, hook.Config{})
	byGUID := map[string]string{}
	for name, tc := range tests {
		byGUID[d.Enqueue(rc.URL, "x", []byte(tc.payload))] = name
	}
	wait(t, d)
	for _, del := range d.Deliveries() {
		name := byGUID[del.GUID]
		if want := tests[name].want; del.Action != want {
			t.Errorf("%s: Action = %q, want %q", name, del.Action, want)
		}
	}
}

func TestLogsOneLinePerDeliveryWithoutSecrets(t *testing.T) {
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n == 2 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	d := newDispatcher(t, hook.Config{Secret: secret, Logger: logger})
	body := `{"action":"created","comment":{"body":"private words"}}`
	target := strings.Replace(rc.URL, "http://", "http://user:hunter2@", 1) + "/hook?token=abc123"
	g1 := d.Enqueue(target, "issue_comment", []byte(body))
	g2 := d.Enqueue(target, "issue_comment", []byte(body))
	wait(t, d)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2:\n%s", len(lines), buf.String())
	}
	type line struct {
		Level, Msg, GUID, Event, Action, URL string
		Status                               int
	}
	var got []line
	for _, l := range lines {
		var v struct {
			Level  string `json:"level"`
			Msg    string `json:"msg"`
			GUID   string `json:"guid"`
			Event  string `json:"event"`
			Action string `json:"action"`
			URL    string `json:"url"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		got = append(got, line(v))
	}
	want := []line{
		{"INFO", "webhook delivered", g1, "issue_comment", "created", rc.URL + "/hook", 200},
		{"WARN", "webhook delivery failed", g2, "issue_comment", "created", rc.URL + "/hook", 502},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines differ (-want +got):\n%s", diff)
	}
	for _, leak := range []string{"private words", "hunter2", "abc123", string(secret), hook.Sign(secret, []byte(body))} {
		if strings.Contains(buf.String(), leak) {
			t.Errorf("log contains %q:\n%s", leak, buf.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the dispatcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNewGUIDIsFreshAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		g := hook.NewGUID()
		if !guidFormat.MatchString(g) {
			t.Fatalf("NewGUID() = %q, not a lowercase UUID v4", g)
		}
		if seen[g] {
			t.Fatalf("NewGUID() repeated %q", g)
		}
		seen[g] = true
	}
}

// BenchmarkBurst1000 enqueues 1,000 deliveries to one receiver at once and
// waits until all are delivered; the time per op is the time per burst.
func BenchmarkBurst1000(b *testing.B) {
	var count sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := github.ValidatePayload(r, secret); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		count.Lock()
		n++
		count.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	payload := []byte(`{"action":"opened","number":1,"pull_request":{"title":"grant alice prod db"}}`)
	b.ResetTimer()
	for b.Loop() {
		d := hook.NewDispatcher(hook.Config{Secret: secret})
		for range 1000 {
			d.Enqueue(srv.URL, "pull_request", payload)
		}
		if err := d.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		ok := 0
		for _, del := range d.Deliveries() {
			if del.OK() {
				ok++
			}
		}
		d.Close()
		if ok != 1000 {
			b.Fatalf("%d of 1000 deliveries succeeded", ok)
		}
	}
	b.StopTimer()
	count.Lock()
	defer count.Unlock()
	if n%1000 != 0 || n == 0 {
		b.Fatalf("receiver counted %d valid deliveries, want a multiple of 1000", n)
	}
}
