package appmetrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/appmetrics"
)

// scrape returns the exposition m.Handler serves.
func scrape(t *testing.T, m *appmetrics.Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", w.Code)
	}
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func TestExpositionHasEveryMetricWithItsLabels(t *testing.T) {
	m := appmetrics.New()
	m.Events.WithLabelValues("pull_request", "opened", "accepted").Inc()
	m.Decisions.WithLabelValues("approved").Inc()
	m.Merges.WithLabelValues("head-changed").Inc()
	m.ObserveGitHub("GET /repos/{owner}/{repo}/pulls/{pull_number}", 200, 30*time.Millisecond)
	m.ObserveGitHub("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", 0, 2*time.Second)
	m.QueueDepth.Set(7)
	m.WebhookToCheck.Observe(0.02)
	m.Evaluations.WithLabelValues("webhook", "ok").Inc()
	m.Errors.WithLabelValues("merge").Inc()

	got := scrape(t, m)
	for _, want := range []string{
		`jit_webhook_events_total{action="opened",event="pull_request",result="accepted"} 1`,
		`jit_decisions_total{outcome="approved"} 1`,
		`jit_decisions_total{outcome="pending"} 0`,
		`jit_decisions_total{outcome="invalid"} 0`,
		`jit_merges_total{result="head-changed"} 1`,
		`jit_merges_total{result="merged"} 0`,
		`jit_github_requests_total{route="GET /repos/{owner}/{repo}/pulls/{pull_number}",status="200"} 1`,
		`jit_github_requests_total{route="PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",status="error"} 1`,
		`jit_github_request_seconds_count{route="GET /repos/{owner}/{repo}/pulls/{pull_number}"} 1`,
		`jit_github_request_seconds_sum{route="PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"} 2`,
		`jit_queue_depth 7`,
		`jit_webhook_to_check_seconds_bucket{le="0.01"} 0`,
		`jit_webhook_to_check_seconds_bucket{le="0.025"} 1`,
		`jit_webhook_to_check_seconds_bucket{le="30"} 1`,
		`jit_evaluations_total{result="ok",trigger="webhook"} 1`,
		`jit_errors_total{stage="merge"} 1`,
		`# TYPE go_goroutines gauge`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

func TestEachMetricsHasItsOwnRegistry(t *testing.T) {
	a, b := appmetrics.New(), appmetrics.New() // a shared registry would panic on the second New
	a.QueueDepth.Set(3)
	if got := scrape(t, b); !strings.Contains(got, "jit_queue_depth 0\n") {
		t.Errorf("b's exposition shows a's gauge:\n%s", got)
	}
}
