package hook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Delivery header names exactly as GitHub spells them on the wire.
const (
	HeaderEvent      = "X-GitHub-Event"
	HeaderDelivery   = "X-GitHub-Delivery"
	HeaderHookID     = "X-GitHub-Hook-ID"
	HeaderTargetType = "X-GitHub-Hook-Installation-Target-Type"
	HeaderTargetID   = "X-GitHub-Hook-Installation-Target-ID"
)

// UserAgent is the User-Agent of every delivery. GitHub sends
// "GitHub-Hookshot/" followed by a short hex build id; receivers may only rely
// on the prefix.
const UserAgent = "GitHub-Hookshot/e3a1c0d"

// DefaultTimeout is how long a receiver has to answer before the delivery
// counts as failed: GitHub's limit on github.com (GHES allows 30 s).
const DefaultTimeout = 10 * time.Second

// MaxPayload is GitHub's payload cap: an event whose payload is larger is not
// delivered at all.
const MaxPayload = 25 << 20

// maxResponseBody bounds how much of a receiver's answer is kept in the log.
const maxResponseBody = 64 << 10

// Log attribute keys.
const (
	logKeyDelivery = "delivery_id"
	logKeyGUID     = "guid"
	logKeyEvent    = "event"
	logKeyAction   = "action"
	logKeyURL      = "url"
	logKeyStatus   = "status"
	logKeyDuration = "duration"
)

// ErrClosed is returned (wrapped) by Redeliver after Close, and recorded as
// the error of deliveries that Close cancelled or that were enqueued after it.
var ErrClosed = errors.New("webhook dispatcher closed")

// ErrUnknownDelivery is returned (wrapped) by Redeliver when no delivery has
// the given id.
var ErrUnknownDelivery = errors.New("no such webhook delivery")

// Config configures a Dispatcher. Only Secret changes what is sent; every
// other zero value has a working default.
type Config struct {
	// Secret is the webhook secret. When empty, no signature headers are sent
	// (as on GitHub).
	Secret []byte
	// Client sends the requests. Nil means a client that does not follow
	// redirects (a 3xx answer is a failed delivery, as on GitHub).
	Client *http.Client
	// Logger receives one info line per delivery (never bodies or secrets).
	// Nil discards.
	Logger *slog.Logger
	// HookID is sent as X-GitHub-Hook-ID.
	HookID int64
	// TargetType is sent as X-GitHub-Hook-Installation-Target-Type
	// ("repository", "organization", or for an App's webhook "integration").
	// Empty means "repository".
	TargetType string
	// TargetID is sent as X-GitHub-Hook-Installation-Target-ID (the repository,
	// organization or App id).
	TargetID int64
	// Timeout bounds one delivery, from sending to the end of the answer.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// Now stamps DeliveredAt. Nil means time.Now.
	Now func() time.Time
}

// Delivery is one attempt to deliver an event, as kept in the delivery log.
// A delivery succeeded exactly when OK reports true.
type Delivery struct {
	// ID increases with every attempt, in the order the events were enqueued
	// (redeliveries get a fresh, higher ID).
	ID int64
	// GUID is the X-GitHub-Delivery value; a redelivery keeps the original's.
	GUID   string
	Event  string
	Action string // the payload's top-level "action"; empty for push and ping
	URL    string
	// StatusCode is the receiver's HTTP status, 0 when no answer came.
	StatusCode int
	// Error says why the delivery failed; empty when it succeeded.
	Error      string
	Redelivery bool
	// Duration is how long the receiver took (zero if nothing was sent).
	Duration time.Duration
	// DeliveredAt is when the request was sent (or abandoned), from Config.Now.
	DeliveredAt time.Time
	// Payload is the exact body sent; the signature covers these bytes.
	Payload []byte
	// RequestHeaders are the headers sent, keyed in canonical form so that
	// Get works (on the wire they are spelled as GitHub spells them).
	RequestHeaders http.Header
	// ResponseHeaders and ResponseBody (at most 64 KiB) are the receiver's answer.
	ResponseHeaders http.Header
	ResponseBody    []byte
}

// OK reports whether the receiver answered with a 2xx status in time.
func (d Delivery) OK() bool {
	return d.Error == "" && d.StatusCode >= 200 && d.StatusCode < 300
}

// job is an enqueued delivery not yet attempted.
type job struct {
	id      int64
	guid    string
	url     string
	event   string
	payload []byte
}

// queue holds the pending jobs for one URL; at most one goroutine drains it,
// which keeps deliveries to a URL in order.
type queue struct {
	jobs    []job
	running bool
}

// Dispatcher delivers webhooks asynchronously: in enqueue order per URL,
// each attempted exactly once (no retries), all recorded in a log. It is safe
// for concurrent use. The zero value is not usable; call NewDispatcher.
type Dispatcher struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	ctx    context.Context // cancelled by Close, aborting requests in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per running drain goroutine

	mu      sync.Mutex
	closed  bool
	nextID  int64
	queues  map[string]*queue
	pending int           // enqueued, not yet recorded
	idle    chan struct{} // closed when pending drops to 0
	entries []Delivery    // sorted by ID
}

// NewDispatcher returns a Dispatcher for one webhook configuration.
func NewDispatcher(cfg Config) *Dispatcher {
	d := &Dispatcher{cfg: cfg, client: cfg.Client, log: cfg.Logger, now: cfg.Now,
		queues: map[string]*queue{}, idle: make(chan struct{})}
	close(d.idle)
	if d.client == nil {
		d.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.cfg.Timeout <= 0 {
		d.cfg.Timeout = DefaultTimeout
	}
	if d.cfg.TargetType == "" {
		d.cfg.TargetType = "repository"
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d
}

// NewGUID returns a fresh random (version 4) UUID in GitHub's
// X-GitHub-Delivery format: 36 lowercase characters, 8-4-4-4-12.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Enqueue schedules delivery of payload as event to url with a fresh GUID and
// returns that GUID at once. The payload must not be modified afterwards.
func (d *Dispatcher) Enqueue(url, event string, payload []byte) (guid string) {
	guid = NewGUID()
	d.EnqueueGUID(url, event, guid, payload)
	return guid
}

// EnqueueGUID is Enqueue with a caller-chosen GUID, for delivering one event
// to several hooks under the same X-GitHub-Delivery, as GitHub does.
func (d *Dispatcher) EnqueueGUID(url, event, guid string, payload []byte) {
	d.mu.Lock()
	d.nextID++
	j := job{id: d.nextID, guid: guid, url: url, event: event, payload: payload}
	if d.closed {
		d.mu.Unlock()
		d.record(d.abandoned(j, ErrClosed.Error()), false)
		return
	}
	if d.pending == 0 {
		d.idle = make(chan struct{})
	}
	d.pending++
	q := d.queues[url]
	if q == nil {
		q = &queue{}
		d.queues[url] = q
	}
	q.jobs = append(q.jobs, j)
	start := !q.running
	q.running = true
	if start {
		d.wg.Add(1)
	}
	d.mu.Unlock()
	if start {
		go d.drain(q)
	}
}

// drain attempts q's jobs in order until the queue is empty.
func (d *Dispatcher) drain(q *queue) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = false
			d.mu.Unlock()
			return
		}
		j := q.jobs[0]
		q.jobs[0] = job{}
		q.jobs = q.jobs[1:]
		closed := d.closed
		d.mu.Unlock()

		var del Delivery
		if closed {
			del = d.abandoned(j, ErrClosed.Error()+" before delivery")
		} else {
			del = d.send(d.ctx, j, false)
		}
		d.record(del, true)
	}
}

// record appends del to the log (keeping it sorted by ID) and, for a queued
// job, counts it as done.
func (d *Dispatcher) record(del Delivery, queued bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, _ := slices.BinarySearchFunc(d.entries, del.ID, func(e Delivery, id int64) int {
		switch {
		case e.ID < id:
			return -1
		case e.ID > id:
			return 1
		}
		return 0
	})
	d.entries = slices.Insert(d.entries, i, del)
	if queued {
		d.pending--
		if d.pending == 0 {
			close(d.idle)
		}
	}
}

// abandoned is the log entry of a job that was never sent.
func (d *Dispatcher) abandoned(j job, reason string) Delivery {
	return Delivery{ID: j.id, GUID: j.guid, Event: j.event, Action: action(j.payload),
		URL: j.url, Error: reason, DeliveredAt: d.now(), Payload: j.payload}
}

// send makes one attempt and describes its outcome. It never retries.
func (d *Dispatcher) send(ctx context.Context, j job, redelivery bool) Delivery {
	del := d.abandoned(j, "")
	del.Redelivery = redelivery
	log := d.log.With(logKeyDelivery, j.id, logKeyGUID, j.guid, logKeyEvent, j.event,
		logKeyAction, del.Action, logKeyURL, loggable(j.url))
	if len(j.payload) > MaxPayload {
		del.Error = fmt.Sprintf("payload is %d bytes, over GitHub's %d-byte cap; not delivered", len(j.payload), MaxPayload)
		log.Warn("webhook not delivered", "reason", "payload too large")
		return del
	}

	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url, bytes.NewReader(j.payload))
	if err != nil {
		del.Error = fmt.Sprintf("building request for %q: %v", j.url, err)
		log.Warn("webhook not delivered", "err", del.Error)
		return del
	}
	d.setHeaders(req.Header, j)
	del.RequestHeaders = canonical(req.Header)

	start := time.Now()
	resp, err := d.client.Do(req)
	if err == nil {
		del.StatusCode = resp.StatusCode
		del.ResponseHeaders = resp.Header
		del.ResponseBody, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
		resp.Body.Close()
		if err != nil {
			err = fmt.Errorf("reading the answer: %w", err)
		}
	}
	del.Duration = time.Since(start)
	switch {
	case err != nil && d.ctx.Err() != nil:
		del.Error = fmt.Sprintf("%s during delivery: %v", ErrClosed, err)
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		del.Error = fmt.Sprintf("timed out after %s (GitHub allows %s for a 2xx answer): %v", d.cfg.Timeout, d.cfg.Timeout, err)
	case err != nil:
		del.Error = err.Error()
	case del.StatusCode < 200 || del.StatusCode > 299:
		del.Error = fmt.Sprintf("invalid HTTP response: %d", del.StatusCode)
	}
	if del.Error != "" {
		log.Warn("webhook delivery failed", logKeyStatus, del.StatusCode, logKeyDuration, del.Duration, "err", del.Error)
	} else {
		log.Info("webhook delivered", logKeyStatus, del.StatusCode, logKeyDuration, del.Duration)
	}
	return del
}

// setHeaders writes GitHub's delivery headers into h, spelled as GitHub spells
// them (bypassing Go's canonicalisation, which would send "X-Github-Event").
func (d *Dispatcher) setHeaders(h http.Header, j job) {
	h["User-Agent"] = []string{UserAgent}
	h["Content-Type"] = []string{"application/json"}
	h[HeaderEvent] = []string{j.event}
	h[HeaderDelivery] = []string{j.guid}
	h[HeaderHookID] = []string{strconv.FormatInt(d.cfg.HookID, 10)}
	h[HeaderTargetType] = []string{d.cfg.TargetType}
	h[HeaderTargetID] = []string{strconv.FormatInt(d.cfg.TargetID, 10)}
	if len(d.cfg.Secret) > 0 {
		h[HeaderSignature] = []string{SignSHA1(d.cfg.Secret, j.payload)}
		h[HeaderSignature256] = []string{Sign(d.cfg.Secret, j.payload)}
	}
}

// loggable returns rawURL without user info, query and fragment, which may
// carry credentials.
func loggable(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// canonical copies h with canonical keys.
func canonical(h http.Header) http.Header {
	c := make(http.Header, len(h))
	for k, v := range h {
		c[http.CanonicalHeaderKey(k)] = slices.Clone(v)
	}
	return c
}

// action returns the payload's top-level "action" string, or "" when there is
// none (push, ping) or the payload is not a JSON object.
func action(payload []byte) string {
	// A map, not a struct: encoding/json matches struct fields without regard
	// to case, and "ACTION" is not GitHub's "action".
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(top["action"], &s) != nil {
		return ""
	}
	return s
}

// Wait returns nil once every delivery enqueued so far has been attempted and
// recorded, or ctx's error if ctx ends first.
func (d *Dispatcher) Wait(ctx context.Context) error {
	d.mu.Lock()
	idle := d.idle
	d.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for webhook deliveries: %w", ctx.Err())
	}
}

// Deliveries returns a copy of the delivery log, ordered by ID. Deliveries
// still queued or in flight are not in it yet. The entries share their
// Payload, header maps and ResponseBody with the log: treat them as read-only.
func (d *Dispatcher) Deliveries() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.entries)
}

// Delivery returns the logged delivery with the given ID.
func (d *Dispatcher) Delivery(id int64) (Delivery, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, del := range d.entries {
		if del.ID == id {
			return del, true
		}
	}
	return Delivery{}, false
}

// Redeliver sends the logged delivery id again, now and synchronously, with
// the same body and the same X-GitHub-Delivery GUID, and logs the attempt as
// a new delivery with Redelivery set. The returned error is only about
// whether the attempt could be made (unknown id, dispatcher closed); the
// attempt's own outcome is in the returned Delivery.
func (d *Dispatcher) Redeliver(ctx context.Context, id int64) (Delivery, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return Delivery{}, fmt.Errorf("redelivering %d: %w", id, ErrClosed)
	}
	var orig *Delivery
	for i := range d.entries {
		if d.entries[i].ID == id {
			orig = &d.entries[i]
			break
		}
	}
	if orig == nil {
		d.mu.Unlock()
		return Delivery{}, fmt.Errorf("redelivering %d: %w (see Deliveries for the ids)", id, ErrUnknownDelivery)
	}
	d.nextID++
	j := job{id: d.nextID, guid: orig.GUID, url: orig.URL, event: orig.Event, payload: orig.Payload}
	d.mu.Unlock()

	// Close must abort a redelivery in flight as it aborts queued ones.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	unhook := context.AfterFunc(d.ctx, stop)
	defer unhook()
	del := d.send(ctx, j, true)
	d.record(del, false)
	return del, nil
}

// Close stops the dispatcher and returns when its workers have exited.
// Requests in flight are cancelled and deliveries still queued are NOT sent:
// both are recorded as failed with an error wrapping ErrClosed's text, so
// Wait returns and the log accounts for every enqueued event. Deliveries
// enqueued after Close are recorded the same way. Close is idempotent.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}
