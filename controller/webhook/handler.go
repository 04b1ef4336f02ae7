package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/workqueue"
)

// MaxBody is GitHub's payload cap: a larger body is refused with 413 before
// anything of it is checked or parsed.
const MaxBody = 25 << 20

// Results of a delivery, as answered, logged and passed to Observe.
const (
	ResultAccepted     = "accepted"      // 202: handed to Accept
	ResultIgnored      = "ignored"       // 202: an event or action jit does not act on
	ResultPong         = "pong"          // 200: a ping
	ResultBadSignature = "bad-signature" // 401: X-Hub-Signature-256 missing or wrong
	ResultTooLarge     = "too-large"     // 413: body over MaxBody
	ResultBadPayload   = "bad-payload"   // 400/415: verified but not a delivery jit can read
	ResultBadMethod    = "bad-method"    // 405: not a POST
	ResultFull         = "full"          // 503: Accept returned workqueue.ErrFull
	ResultError        = "error"         // 500: Accept failed otherwise, or no secret is configured
)

// Log attribute keys of a delivery's log line.
const (
	LogKeyDelivery     = "delivery"
	LogKeyEvent        = "event"
	LogKeyAction       = "action"
	LogKeyPR           = "pr"
	LogKeyResult       = "result"
	LogKeyRepo         = "repo"
	LogKeyInstallation = "installation"
	LogKeyErr          = "err"
)

// Handler is the webhook endpoint. It answers every delivery at once: it
// verifies the signature with the Secret before reading anything of the
// body, and hands a wanted event to Accept, which must not block.
//
// Statuses: 405 not POST, 413 over MaxBody, 401 signature missing or wrong
// (only X-Hub-Signature-256 counts, never the sha1 header), 415 not JSON,
// 400 unreadable, 200 ping, 202 ignored or accepted, 503 with Retry-After
// when Accept reports workqueue.ErrFull, 500 on any other Accept error.
// The body is a small JSON object {"delivery", "result"} (and "error").
type Handler struct {
	Secret  []byte            // required: with none every delivery is refused
	Accept  func(Event) error // workqueue.ErrFull → 503 (Retry-After: 10); other error → 500
	Logger  *slog.Logger
	Observe func(event, action, result string) // result: one of the Result constants
	Now     func() time.Time
	// Wants reports whether jit acts on an event and action; nil is Wanted.
	Wants func(event, action string) bool
}

// reply is a delivery's answer.
type reply struct {
	status         int
	result, reason string
	event, action  string // verified values, for the metric labels
}

// ServeHTTP answers one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	if h.Now != nil {
		received = h.Now()
	}
	delivery := clip(r.Header.Get(github.DeliveryIDHeader))
	ev, rp := h.serve(w, r, delivery, received)

	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	attrs := []any{LogKeyDelivery, delivery, LogKeyEvent, clip(r.Header.Get(github.EventTypeHeader)), LogKeyAction, ev.Action, LogKeyResult, rp.result}
	if len(ev.PullRequests) > 0 {
		attrs = append(attrs, LogKeyPR, ev.PullRequests[0])
	}
	if ev.Repo != "" {
		attrs = append(attrs, LogKeyRepo, ev.Repo)
	}
	if rp.reason != "" {
		attrs = append(attrs, LogKeyErr, rp.reason)
	}
	switch rp.result {
	case ResultIgnored:
		log.Debug("webhook", attrs...)
	case ResultError:
		log.Error("webhook", attrs...)
	case ResultFull, ResultBadSignature:
		log.Warn("webhook", attrs...)
	default:
		log.Info("webhook", attrs...)
	}
	if h.Observe != nil {
		h.Observe(rp.event, rp.action, rp.result)
	}

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch rp.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "10")
	}
	w.WriteHeader(rp.status)
	json.NewEncoder(w).Encode(struct {
		Delivery string `json:"delivery"`
		Result   string `json:"result"`
		Error    string `json:"error,omitempty"`
	}{delivery, rp.result, rp.public()})
}

// serve checks the delivery in the order that keeps an unverified body
// unread, and hands a wanted event to Accept.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, delivery string, received time.Time) (Event, reply) {
	if r.Method != http.MethodPost {
		return Event{}, reply{status: http.StatusMethodNotAllowed, result: ResultBadMethod, reason: "webhooks are POSTed"}
	}
	if len(h.Secret) == 0 {
		return Event{}, reply{status: http.StatusInternalServerError, result: ResultError, reason: "no webhook secret is configured; every delivery is refused until one is"}
	}
	if r.ContentLength > MaxBody {
		return Event{}, tooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return Event{}, tooLarge()
		}
		return Event{}, reply{status: http.StatusBadRequest, result: ResultBadPayload, reason: "reading the body: " + err.Error()}
	}
	// Only the sha256 header counts: go-github would also take "sha1=" there.
	sig := r.Header.Get(github.SHA256SignatureHeader)
	if !strings.HasPrefix(sig, "sha256=") {
		return Event{}, reply{status: http.StatusUnauthorized, result: ResultBadSignature, reason: "X-Hub-Signature-256 is missing or not sha256=HEX; set the App's webhook secret"}
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		return Event{}, reply{status: http.StatusUnsupportedMediaType, result: ResultBadPayload, reason: "Content-Type is not application/json; set the webhook's content type to JSON"}
	}
	if _, err := github.ValidatePayloadFromBody("application/json", bytes.NewReader(body), sig, h.Secret); err != nil {
		return Event{}, reply{status: http.StatusUnauthorized, result: ResultBadSignature, reason: "X-Hub-Signature-256 does not match the body; check the webhook secret"}
	}

	// Verified: from here on the headers and body are GitHub's.
	name := r.Header.Get(github.EventTypeHeader)
	verified := reply{event: label(name)}
	switch {
	case name == "":
		return Event{}, verified.with(http.StatusBadRequest, ResultBadPayload, "X-GitHub-Event is missing")
	case delivery == "":
		return Event{}, verified.with(http.StatusBadRequest, ResultBadPayload, "X-GitHub-Delivery is missing")
	case name == "ping":
		return Event{}, verified.with(http.StatusOK, ResultPong, "")
	case !h.wantsEvent(name), github.EventForType(name) == nil: // unwanted, or unknown to go-github
		return Event{}, verified.with(http.StatusAccepted, ResultIgnored, "")
	}
	payload, err := github.ParseWebHook(name, body)
	if err != nil {
		return Event{}, verified.with(http.StatusBadRequest, ResultBadPayload, "parsing the payload: "+err.Error())
	}
	ev := newEvent(delivery, name, payload, received)
	verified.action = ev.Action
	if !h.wants(name, ev.Action) {
		verified.action = "other"
		return ev, verified.with(http.StatusAccepted, ResultIgnored, "")
	}
	verified.event = name // wanted, so one of a bounded set
	if h.Accept == nil {
		return ev, verified.with(http.StatusInternalServerError, ResultError, "no Accept function is configured")
	}
	if err := h.Accept(ev); err != nil {
		if errors.Is(err, workqueue.ErrFull) {
			return ev, verified.with(http.StatusServiceUnavailable, ResultFull, err.Error())
		}
		return ev, verified.with(http.StatusInternalServerError, ResultError, err.Error())
	}
	return ev, verified.with(http.StatusAccepted, ResultAccepted, "")
}

func (rp reply) with(status int, result, reason string) reply {
	rp.status, rp.result, rp.reason = status, result, reason
	return rp
}

// public is the error told to the sender: the reason for a refusal it can
// fix, nothing of jit's own failures.
func (rp reply) public() string {
	switch rp.result {
	case ResultError:
		return "internal error; see jit's log"
	case ResultFull:
		return "busy; retry later"
	}
	return rp.reason
}

func tooLarge() reply {
	return reply{status: http.StatusRequestEntityTooLarge, result: ResultTooLarge, reason: "body is over GitHub's 25 MB payload cap"}
}

func (h *Handler) wants(event, action string) bool {
	if h.Wants != nil {
		return h.Wants(event, action)
	}
	return Wanted(event, action)
}

// wantsEvent reports whether some action of event is wanted, so that an
// unwanted event is ignored without parsing its payload.
func (h *Handler) wantsEvent(name string) bool {
	if h.Wants != nil {
		return true // a custom Wants decides on the parsed action
	}
	_, ok := wanted[name]
	return ok
}

// label bounds the event label of the metric to the events jit knows.
func label(name string) string {
	if _, ok := wanted[name]; ok || name == "ping" {
		return name
	}
	return "other"
}

// clip bounds an unverified header value kept in logs and replies.
func clip(s string) string {
	const n = 100
	if len(s) > n {
		return s[:n]
	}
	return s
}
