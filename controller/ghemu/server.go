package ghemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Config configures a Server. DataDir is required; everything else has a
// default.
type Config struct {
	// DataDir holds the bare git repositories (DataDir/repos/OWNER/NAME.git).
	DataDir string
	// URL is the externally visible base URL ("http://127.0.0.1:8080"), used
	// in every URL the emulator renders. Start sets it from the listener when
	// empty; set it when serving Handler() yourself.
	URL string
	// Seed is the initial state: org, users, teams, repositories, the App.
	Seed Seed
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Now is the emulator's clock; nil means time.Now.
	Now func() time.Time
	// InstallationTokenTTL is the lifetime of installation access tokens;
	// zero means one hour, as on GitHub.
	InstallationTokenTTL time.Duration
	// OnUnhandled is called for every request to a route the emulator does
	// not implement (it still answers GitHub's 404). NewServer makes it a
	// test error so gaps are loud.
	OnUnhandled func(method, path string)
	// CountBotApprovals makes APPROVE reviews by an App's bot count toward
	// branch protection. GitHub's documentation does not say whether they
	// do, so the default (false) is the conservative reading: the product
	// must not depend on it.
	CountBotApprovals bool
	// WebhookClient delivers webhooks; nil means the hook package's default
	// (no redirects followed, 10 s per delivery, as on github.com).
	WebhookClient *http.Client
}

// Request is one recorded API or git request.
type Request struct {
	Method string // HTTP method
	// Route is the matched operation, as GitHub documents it, for example
	// "GET /repos/{owner}/{repo}/pulls/{pull_number}". Git over smart HTTP
	// is recorded with a route starting "GIT " ("GIT GET /{owner}/{repo}.git"
	// for a ref advertisement, "GIT POST /{owner}/{repo}.git" for
	// upload-pack or receive-pack), and "" means an unhandled route.
	Route  string
	Path   string // request path as sent
	Login  string // acting identity ("" when anonymous)
	Status int    // status code answered
}

// Server is a running (or runnable) GitHub emulator. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the base URL: git is served at URL/OWNER/REPO.git.
	URL string
	// APIURL is URL + "/api/v3/", the base URL for go-github.
	APIURL string

	cfg Config
	log *slog.Logger
	now func() time.Time
	mux *http.ServeMux
	// routeNames are the registered operations (see Routes).
	routeNames []string
	handler    http.Handler

	mu         sync.Mutex
	st         *state
	requests   []Request
	faults     map[string][]*fault
	hooks      dispatcher
	httpServer *http.Server
	listener   net.Listener
	closed     bool
}

type fault struct {
	n         int
	status    int
	rateLimit bool
}

// New builds a Server from cfg: it creates and seeds the bare repositories
// under cfg.DataDir. It does not listen; call Start, or serve Handler().
func New(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("ghemu: Config.DataDir is empty; give a directory for the bare repositories")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InstallationTokenTTL == 0 {
		cfg.InstallationTokenTTL = time.Hour
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkGitVersion(context.Background()); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "repos"), 0o755); err != nil {
		return nil, fmt.Errorf("ghemu: creating data directory: %w", err)
	}
	s := &Server{cfg: cfg, log: log, now: cfg.Now, faults: map[string][]*fault{}}
	s.setURL(cfg.URL)
	st, err := s.seed(context.Background(), cfg.Seed)
	if err != nil {
		return nil, err
	}
	s.st = st
	s.mux = http.NewServeMux()
	s.routes()
	s.handler = http.HandlerFunc(s.serve)
	s.hooks = newDispatcher(s)
	return s, nil
}

func (s *Server) setURL(u string) {
	u = strings.TrimRight(u, "/")
	s.URL = u
	s.APIURL = u + "/api/v3/"
}

// Start listens on addr ("127.0.0.1:0" for a free port) and serves in the
// background until Close. It sets URL and APIURL when Config.URL was empty.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ghemu: listening on %s: %w", addr, err)
	}
	s.mu.Lock()
	if s.cfg.URL == "" {
		s.setURL("http://" + ln.Addr().String())
	}
	s.listener = ln
	s.httpServer = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	srv := s.httpServer
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("ghemu serve stopped", logKeyErr, err)
		}
	}()
	s.log.Info("ghemu listening", "url", s.URL)
	return nil
}

// Handler returns the emulator's HTTP handler (API, git, and 404s).
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops listening, waits for queued webhook deliveries to finish and
// stops the dispatcher. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.httpServer
	s.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(ctx)
		cancel()
	}
	s.hooks.Close()
	return err
}

// Requests returns every API and git request recorded so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// APIRequests returns the REST API requests recorded so far, in order:
// Requests without git (Route "GIT ...") and unhandled routes (Route "").
func (s *Server) APIRequests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Route != "" && !strings.HasPrefix(r.Route, "GIT ") {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the requests recorded so far, so that a test or a
// benchmark can count the calls of one flow.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// FailNext makes the next n requests to route (for example
// "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge") answer status with
// GitHub's error body, without any effect.
func (s *Server) FailNext(route string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], &fault{n: n, status: status})
}

// ClearFaults drops every fault FailNext and RateLimitNext injected and not
// yet used.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// RateLimitNext makes the next n requests to route answer GitHub's primary
// rate-limit response (403, X-RateLimit-Remaining: 0, reset one second
// ahead), which go-github reports as *github.RateLimitError.
func (s *Server) RateLimitNext(route string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], &fault{n: n, status: http.StatusForbidden, rateLimit: true})
}

// takeFault consumes one injected fault for route, if any.
func (s *Server) takeFault(route string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.faults[route]
	for len(fs) > 0 && fs[0].n <= 0 {
		fs = fs[1:]
	}
	s.faults[route] = fs
	if len(fs) == 0 {
		return nil
	}
	fs[0].n--
	return fs[0]
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v3/"):
		s.serveAPI(w, r)
	case (r.URL.Path == "/api/graphql" || r.URL.Path == "/graphql") && r.Method == http.MethodPost:
		s.serveGraphQL(w, r)
	case isGitPath(r.URL.Path):
		s.serveGit(w, r)
	case isGitPath(withGitSuffix(r.URL.Path)):
		// Like GitHub, accept clone URLs without ".git".
		r.URL.Path = withGitSuffix(r.URL.Path)
		r.URL.RawPath = ""
		s.serveGit(w, r)
	default:
		s.unhandled(w, r)
	}
}

func (s *Server) unhandled(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("ghemu unhandled route", logKeyMethod, r.Method, logKeyPath, r.URL.Path)
	if s.cfg.OnUnhandled != nil {
		s.cfg.OnUnhandled(r.Method, r.URL.Path)
	}
	writeJSON(w, http.StatusNotFound, errorBody{Message: "Not Found", DocumentationURL: "https://docs.github.com/rest"})
	s.record(Request{Method: r.Method, Path: r.URL.Path, Status: http.StatusNotFound})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		s.unhandled(w, r)
		return
	}
	route := routeName(pattern)
	sw := &statusWriter{ResponseWriter: w}
	id, authErr := s.authenticate(r)
	defer func() {
		s.record(Request{Method: r.Method, Route: route, Path: r.URL.Path, Login: id.login(), Status: sw.status})
	}()
	if s.injectFault(sw, route, id) {
		return
	}
	if authErr != nil {
		writeJSON(sw, http.StatusUnauthorized, errorBody{Message: authErr.Error(), DocumentationURL: "https://docs.github.com/rest"})
		return
	}
	ctx := context.WithValue(r.Context(), callKey{}, &callInfo{id: id, route: route})
	s.mux.ServeHTTP(sw, r.WithContext(ctx))
}

// injectFault sets the rate-limit headers and, when a fault is injected for
// route (FailNext, RateLimitNext), answers it and reports true.
func (s *Server) injectFault(w http.ResponseWriter, route string, id identity) bool {
	s.rateHeaders(w.Header(), 0)
	f := s.takeFault(route)
	if f == nil {
		return false
	}
	if f.rateLimit {
		s.rateHeaders(w.Header(), 1)
		writeJSON(w, f.status, errorBody{
			Message:          "API rate limit exceeded for " + id.rateSubject() + ".",
			DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
		})
		return true
	}
	writeJSON(w, f.status, errorBody{Message: http.StatusText(f.status), DocumentationURL: docsURLs[route]})
	return true
}

// rateHeaders sets GitHub's X-RateLimit-* headers; exhausted > 0 means the
// limit has been reached.
func (s *Server) rateHeaders(h http.Header, exhausted int) {
	now := s.now()
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Resource", "core")
	if exhausted > 0 {
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", "5000")
		h.Set("X-RateLimit-Reset", fmt.Sprint(now.Add(time.Second).Unix()))
		return
	}
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Used", "1")
	h.Set("X-RateLimit-Reset", fmt.Sprint(now.Add(time.Hour).Unix()))
}

// routeName turns a mux pattern "GET /api/v3/repos/{owner}/{ref...}" into
// the documented route "GET /repos/{owner}/{ref}".
func routeName(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimPrefix(path, "/api/v3")
	path = strings.ReplaceAll(path, "...}", "}")
	return method + " " + path
}

type callKey struct{}

type callInfo struct {
	id    identity
	route string
}

// errorBody is GitHub's error document.
type errorBody struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Errors           any    `json:"errors,omitempty"`
	Status           string `json:"status,omitempty"`
}

// fieldError is one entry of a 422 body's errors list.
type fieldError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"message":"Server Error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readBody reads a JSON request body into v; an empty body leaves v alone.
func readBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}
