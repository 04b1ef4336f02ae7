package ghapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tokenRoute is the route ghinstallation's own token request is observed as.
const tokenRoute = "POST /app/installations/{installation_id}/access_tokens"

// unknownRoute labels a request no operation named (a bug, made visible in
// metrics rather than hidden).
const unknownRoute = "unknown"

// call is what an operation tells the transport about its requests.
type call struct {
	route string
	// once marks a request that must not be sent again after an answer that
	// leaves its effect unknown (5xx, no response): a create. The operation
	// itself looks for the result before trying again.
	once bool
}

type callKey struct{}

// withRoute names the documented route of the requests made with ctx.
func withRoute(ctx context.Context, route string) context.Context {
	return context.WithValue(ctx, callKey{}, call{route: route})
}

// withCreate is withRoute for a request that is not safe to repeat blindly.
func withCreate(ctx context.Context, route string) context.Context {
	return context.WithValue(ctx, callKey{}, call{route: route, once: true})
}

// transport retries and observes every request; it sits under
// ghinstallation, so token requests get the same treatment.
type transport struct {
	base      http.RoundTripper
	retry     Retry
	observe   func(route string, status int, elapsed time.Duration)
	log       *slog.Logger
	now       func() time.Time
	tokenPath string // the path of the installation token request

	mu       sync.Mutex
	lastDate time.Time // Date header of the latest response
	lastAt   time.Time // the local clock when it arrived
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, ok := req.Context().Value(callKey{}).(call)
	if !ok {
		c = call{route: unknownRoute}
	}
	// ghinstallation sends its token request with the context of the call
	// that needed the token; the path is the only thing telling them apart.
	if req.Method == http.MethodPost && req.URL.Path == t.tokenPath {
		c = call{route: tokenRoute}
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: reading the request body: %w", c.route, err)
		}
		body = b
	}
	for attempt := 1; ; attempt++ {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			r.ContentLength = int64(len(body))
		}
		start := time.Now()
		resp, err := t.base.RoundTrip(r)
		status := 0
		if resp != nil {
			status = resp.StatusCode
			t.noteDate(resp.Header.Get("Date"), t.now())
		}
		if t.observe != nil {
			t.observe(c.route, status, time.Since(start))
		}
		wait, limited, retry := t.judge(resp, err, c, attempt)
		if !retry {
			return resp, err
		}
		if limited != nil {
			drain(resp)
			if wait > t.retry.Max || attempt >= t.retry.Attempts {
				return nil, limited
			}
		} else if attempt >= t.retry.Attempts {
			return resp, err
		} else {
			drain(resp)
		}
		t.log.Debug("retrying GitHub request", logKeyRoute, c.route, logKeyStatus, status, logKeyAttempt, attempt, logKeyWait, wait)
		if err := sleep(req.Context(), wait); err != nil {
			return nil, fmt.Errorf("%s: waiting %s before attempt %d: %w", c.route, wait, attempt+1, err)
		}
	}
}

// judge decides whether attempt is retried and how long to wait first. A
// rate limit comes back as limited, whose Reset says when it ends.
func (t *transport) judge(resp *http.Response, err error, c call, attempt int) (wait time.Duration, limited *RateLimitError, retry bool) {
	if err != nil {
		// No answer: the request may or may not have had its effect.
		if c.once || gaveUp(err) {
			return 0, nil, false
		}
		return t.backoff(attempt), nil, true
	}
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if c.once {
			return 0, nil, false
		}
		return t.backoff(attempt), nil, true
	case http.StatusTooManyRequests:
		w, reset := t.limitWait(resp, attempt, false)
		return w, &RateLimitError{Route: c.route, Reset: reset}, true
	case http.StatusForbidden:
		if !rateLimited(resp) {
			return 0, nil, false
		}
		w, reset := t.limitWait(resp, attempt, true)
		return w, &RateLimitError{Route: c.route, Reset: reset}, true
	}
	return 0, nil, false
}

// gaveUp reports a context error: the caller gave up, nothing to retry.
func gaveUp(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// limitWait is how long a rate-limited answer asks to wait: Retry-After,
// else X-RateLimit-Reset when the quota is spent, else (a secondary limit
// without either) at least a minute, as GitHub's documentation asks, and a
// 429 without either backs off like a server error.
func (t *transport) limitWait(resp *http.Response, attempt int, forbidden bool) (time.Duration, time.Time) {
	now := t.now()
	if ra := strings.TrimSpace(resp.Header.Get("Retry-After")); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			d := time.Duration(s) * time.Second
			return d, now.Add(d)
		}
		if at, err := http.ParseTime(ra); err == nil {
			return max(at.Sub(now), 0), at
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			at := time.Unix(s, 0)
			return max(at.Sub(now), 0), at
		}
	}
	if forbidden {
		return time.Minute, now.Add(time.Minute)
	}
	d := t.backoff(attempt)
	return d, now.Add(d)
}

// rateLimited reports whether a 403 is a rate limit (primary: the quota is
// spent; secondary: the body says so), restoring the body it reads.
func rateLimited(resp *http.Response) bool {
	if resp.Header.Get("X-RateLimit-Remaining") == "0" || resp.Header.Get("Retry-After") != "" {
		return true
	}
	if resp.Body == nil {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	return bytes.Contains(bytes.ToLower(b), []byte("rate limit"))
}

// backoff is the exponential wait before attempt+1, with jitter, at most Max.
func (t *transport) backoff(attempt int) time.Duration {
	d := t.retry.Base
	for i := 1; i < attempt && d < t.retry.Max; i++ {
		d *= 2
	}
	d = min(d, t.retry.Max)
	return d/2 + rand.N(d/2+1)
}

// noteDate remembers the Date header of the latest response, and when it
// arrived by the local clock now.
func (t *transport) noteDate(h string, now time.Time) {
	d, err := http.ParseTime(h)
	if err != nil {
		return
	}
	t.mu.Lock()
	t.lastDate, t.lastAt = d, now
	t.mu.Unlock()
}

// date estimates GitHub's clock at local time now: the latest Date header
// plus the local time elapsed since it arrived (never more than GitHub's
// clock, since a Date header rounds down); zero when none arrived.
func (t *transport) date(now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lastDate.IsZero() {
		return time.Time{}
	}
	if elapsed := now.Sub(t.lastAt); elapsed > 0 {
		return t.lastDate.Add(elapsed)
	}
	return t.lastDate
}

// drain reads and closes a response that is being dropped, so the
// connection can be reused.
func drain(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
