// Package appmetrics holds jit serve's Prometheus metrics in a registry of
// their own (never the global default registry, so nothing a dependency
// registers leaks into /metrics and tests can build as many as they like).
package appmetrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/trailer"
)

// Label values known in advance: their series are exported at zero from the
// start, so a dashboard or alert sees them before the first event.
var (
	// DecisionOutcomes are the values of jit_decisions_total's outcome label.
	DecisionOutcomes = []string{"pending", "approved", "rejected", "invalid"}
	// MergeResults are the values of jit_merges_total's result label.
	MergeResults = []string{"merged", "head-changed", "not-mergeable", "error"}
)

// Metrics are jit serve's metrics, registered in their own registry and
// exposed by Handler. The fields are safe for concurrent use.
type Metrics struct {
	Events         *prometheus.CounterVec   // jit_webhook_events_total{event,action,result}
	Decisions      *prometheus.CounterVec   // jit_decisions_total{outcome}: pending|approved|rejected|invalid
	Merges         *prometheus.CounterVec   // jit_merges_total{result}: merged|head-changed|not-mergeable|error
	GitHubRequests *prometheus.CounterVec   // jit_github_requests_total{route,status}
	GitHubLatency  *prometheus.HistogramVec // jit_github_request_seconds{route}
	QueueDepth     prometheus.Gauge         // jit_queue_depth
	WebhookToCheck prometheus.Histogram     // jit_webhook_to_check_seconds (10ms to 30s)
	Evaluations    *prometheus.CounterVec   // jit_evaluations_total{trigger,result}
	Errors         *prometheus.CounterVec   // jit_errors_total{stage}

	// The default-branch side.
	RevocationLateness prometheus.Histogram   // jit_revocation_lateness_seconds
	PastExpiryGrants   prometheus.Gauge       // jit_grants_past_expiry
	Records            *prometheus.CounterVec // jit_records_total{event,result}
	Anomalies          *prometheus.CounterVec // jit_anomalies_total{kind}
	Passes             *prometheus.CounterVec // jit_passes_total{trigger,result}
	PassSeconds        prometheus.Histogram   // jit_pass_seconds

	reg *prometheus.Registry
}

// New returns the metrics registered in a fresh registry, together with the
// Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_webhook_events_total",
			Help: "Webhook deliveries received, by event, action and result (accepted, ignored, pong, bad-signature, too-large, bad-payload, bad-method, full, error).",
		}, []string{"event", "action", "result"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_decisions_total",
			Help: "Access decisions made on pull requests, by outcome.",
		}, []string{"outcome"}),
		Merges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_merges_total",
			Help: "Merge attempts of approved pull requests, by result.",
		}, []string{"result"}),
		GitHubRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_github_requests_total",
			Help: "Requests to the GitHub API, by route template and HTTP status (error when no response came).",
		}, []string{"route", "status"}),
		GitHubLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jit_github_request_seconds",
			Help:    "Time taken by requests to the GitHub API, by route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jit_queue_depth",
			Help: "Webhook work items waiting in the queue.",
		}),
		WebhookToCheck: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jit_webhook_to_check_seconds",
			Help:    "Time from receiving a webhook to posting the pull request's check.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
		Evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_evaluations_total",
			Help: "Pull request evaluations, by what triggered them (webhook, resync, ...) and result.",
		}, []string{"trigger", "result"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_errors_total",
			Help: "Errors needing attention, by the stage they happened in.",
		}, []string{"stage"}),
		RevocationLateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jit_revocation_lateness_seconds",
			Help:    "Time from a grant's expiry to the end of the destroy of its resources.",
			Buckets: []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}),
		PastExpiryGrants: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jit_grants_past_expiry",
			Help: "Grants past their expiry whose resources still exist (after the last pass); alert when above zero for long.",
		}),
		Records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_records_total",
			Help: "Lifecycle records written on the default branch, by event (activated, activation-failed, revoked, revoke-failed) and result.",
		}, []string{"event", "result"}),
		Anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_anomalies_total",
			Help: "Grant files on the default branch that are never applied, by kind, counted on each pass that finds them.",
		}, []string{"kind"}),
		Passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_passes_total",
			Help: "Apply-and-expire passes, by trigger (startup, push, timer, drift) and result (ok, error).",
		}, []string{"trigger", "result"}),
		PassSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jit_pass_seconds",
			Help:    "Duration of apply-and-expire passes.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}),
		reg: prometheus.NewRegistry(),
	}
	m.reg.MustRegister(m.Events, m.Decisions, m.Merges, m.GitHubRequests, m.GitHubLatency,
		m.QueueDepth, m.WebhookToCheck, m.Evaluations, m.Errors,
		m.RevocationLateness, m.PastExpiryGrants, m.Records, m.Anomalies, m.Passes, m.PassSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, o := range DecisionOutcomes {
		m.Decisions.WithLabelValues(o)
	}
	for _, r := range MergeResults {
		m.Merges.WithLabelValues(r)
	}
	return m
}

// Registry returns the registry the metrics are in, for registering more
// collectors next to them.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler returns the /metrics exposition of the registry (and only of it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveGitHub counts one GitHub API request to route (a route template
// such as "GET /repos/{owner}/{repo}/pulls/{pull_number}", never a concrete
// path, to bound the label's values) that answered status after elapsed. A
// status of 0 or below means no response came and is counted as "error".
func (m *Metrics) ObserveGitHub(route string, status int, elapsed time.Duration) {
	s := "error"
	if status > 0 {
		s = strconv.Itoa(status)
	}
	m.GitHubRequests.WithLabelValues(route, s).Inc()
	m.GitHubLatency.WithLabelValues(route).Observe(elapsed.Seconds())
}

// Lifecycle adapts the metrics to what the default-branch side reports
// (lifecycle.Metrics).
type Lifecycle struct{ M *Metrics }

// Revoked observes how late a destroy came after its grant's expiry.
func (l Lifecycle) Revoked(lateness time.Duration) {
	if lateness < 0 {
		lateness = 0
	}
	l.M.RevocationLateness.Observe(lateness.Seconds())
}

// PastExpiry sets the number of grants past their expiry that still exist.
func (l Lifecycle) PastExpiry(n int) { l.M.PastExpiryGrants.Set(float64(n)) }

// Recorded counts one record written (err nil) or not.
func (l Lifecycle) Recorded(kind trailer.EventKind, err error) {
	r := "ok"
	if err != nil {
		r = "error"
	}
	l.M.Records.WithLabelValues(string(kind), r).Inc()
}

// Anomaly counts one grant file that is never applied.
func (l Lifecycle) Anomaly(kind desired.Kind) { l.M.Anomalies.WithLabelValues(string(kind)).Inc() }
