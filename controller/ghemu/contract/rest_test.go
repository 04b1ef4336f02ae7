package contract_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/ghemu/contract"
)

func loadREST(t testing.TB) *contract.REST {
	t.Helper()
	r, err := contract.LoadREST()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// example is one of GitHub's example responses, read straight from the
// description's JSON (not through kin-openapi, so that the loader under test
// is not its own oracle).
type example struct {
	op, method, path, name string
	status                 int
	body                   []byte
}

var (
	examplesOnce sync.Once
	examples     []example
	examplesErr  error
)

func loadExamples(t testing.TB) []example {
	t.Helper()
	examplesOnce.Do(func() { examples, examplesErr = readExamples() })
	if examplesErr != nil {
		t.Fatal(examplesErr)
	}
	return examples
}

func readExamples() ([]example, error) {
	data, err := os.ReadFile("testdata/api.github.com.subset.openapi.json")
	if err != nil {
		return nil, err
	}
	type media struct {
		Examples map[string]struct {
			Ref   string          `json:"$ref"`
			Value json.RawMessage `json:"value"`
		} `json:"examples"`
	}
	type response struct {
		Ref     string           `json:"$ref"`
		Content map[string]media `json:"content"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string              `json:"operationId"`
			Responses   map[string]response `json:"responses"`
		} `json:"paths"`
		Components struct {
			Examples map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"examples"`
			Responses map[string]response `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	var out []example
	for path, item := range doc.Paths {
		for method, op := range item {
			if op.OperationID == "" { // "parameters" and the like
				continue
			}
			for code, resp := range op.Responses {
				if ref, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
					resp = doc.Components.Responses[ref]
				}
				status, err := strconv.Atoi(code)
				if err != nil {
					continue
				}
				for name, ex := range resp.Content["application/json"].Examples {
					body := ex.Value
					if ref, ok := strings.CutPrefix(ex.Ref, "#/components/examples/"); ok {
						body = doc.Components.Examples[ref].Value
					}
					if len(body) == 0 {
						return nil, fmt.Errorf("%s %s example %s: no value", op.OperationID, code, name)
					}
					out = append(out, example{op: op.OperationID, method: strings.ToUpper(method),
						path: contract.APIPrefix + param.ReplaceAllString(path, "x"), name: name, status: status, body: body})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].op+out[i].name < out[j].op+out[j].name })
	return out, nil
}

func findExample(t testing.TB, op string, status int) example {
	t.Helper()
	for _, e := range loadExamples(t) {
		if e.op == op && e.status == status {
			return e
		}
	}
	t.Fatalf("no example for %s %d in the description", op, status)
	return example{}
}

var jsonHeader = http.Header{"Content-Type": {"application/json; charset=utf-8"}}

func validate(t testing.TB, r *contract.REST, method, path string, status int, body []byte) error {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, nil)
	return r.ValidateResponse(req, status, jsonHeader, body)
}

func pointers(err error) []string {
	var ce *contract.Error
	if !errors.As(err, &ce) {
		return nil
	}
	var ps []string
	for _, v := range ce.Violations {
		ps = append(ps, v.Pointer)
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

// staleExamples are GitHub's own examples that its current schemas reject
// (the examples were written before fields became required). Each must fail
// with exactly these JSON pointers; every other example must pass.
var staleExamples = map[string][]string{
	// GitHub's example predates role_name on the collaborator.
	"repos/get-collaborator-permission-level response-if-user-has-admin-permissions": {"/user/role_name"},
	"pulls/get default":          {"/requested_teams/0/type"},
	"pulls/update default":       {"/requested_teams/0/type"},
	"pulls/create default":       {"/requested_teams/0/type"},
	"pulls/list default":         {"/0/requested_teams/0/type"},
	"repos/get default-response": {"/language", "/source/language"},
	"teams/get-by-name default":  {"/organization/archived_at", "/type"},
	// GitHub's examples for the rerequest operations are null, but the
	// schema is a (non-nullable) empty object, which GitHub answers.
	"checks/rerequest-run default":                                 {""},
	"checks/rerequest-suite default":                               {""},
	"repos/get-commit default":                                     {"/files/0/contents_url", "/files/0/sha"},
	"users/get-by-username default-response":                       {""}, // no user_view_type, the oneOf discriminator
	"users/get-by-username response-with-git-hub-plan-information": {""},
	"repos/get-pull-request-review-protection default": {
		"/dismissal_restrictions/apps/0/owner/created_at", "/dismissal_restrictions/apps/0/owner/followers_url",
		"/dismissal_restrictions/apps/0/owner/following_url", "/dismissal_restrictions/apps/0/owner/gists_url",
		"/dismissal_restrictions/apps/0/owner/gravatar_id", "/dismissal_restrictions/apps/0/owner/html_url",
		"/dismissal_restrictions/apps/0/owner/name", "/dismissal_restrictions/apps/0/owner/organizations_url",
		"/dismissal_restrictions/apps/0/owner/received_events_url", "/dismissal_restrictions/apps/0/owner/site_admin",
		"/dismissal_restrictions/apps/0/owner/slug", "/dismissal_restrictions/apps/0/owner/starred_url",
		"/dismissal_restrictions/apps/0/owner/subscriptions_url", "/dismissal_restrictions/apps/0/owner/type",
		"/dismissal_restrictions/apps/0/owner/updated_at", "/dismissal_restrictions/teams/0/type",
	},
	"repos/get-branch-protection default": {
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/created_at",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/followers_url",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/following_url",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/gists_url",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/gravatar_id",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/html_url",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/name",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/organizations_url",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/received_events_url",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/site_admin",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/slug",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/starred_url",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/subscriptions_url",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/type",
		"/required_pull_request_reviews/dismissal_restrictions/apps/0/owner/updated_at",
		"/required_pull_request_reviews/dismissal_restrictions/teams/0/type",
		"/required_status_checks/checks", "/restrictions/teams/0/type",
	},
}

func TestGitHubExamplesValidate(t *testing.T) {
	r := loadREST(t)
	exs := loadExamples(t)
	if len(exs) < 50 {
		t.Fatalf("found only %d examples in the description; the walk is broken", len(exs))
	}
	seen := map[string]bool{}
	for _, e := range exs {
		key := e.op + " " + e.name
		seen[key] = true
		t.Run(key, func(t *testing.T) {
			err := validate(t, r, e.method, e.path, e.status, e.body)
			want, stale := staleExamples[key]
			switch {
			case !stale && err != nil:
				t.Errorf("GitHub's own example is rejected: %v", err)
			case stale && err == nil:
				t.Errorf("stale example now validates; remove it from staleExamples")
			case stale:
				if diff := cmp.Diff(want, pointers(err)); diff != "" {
					t.Errorf("violations differ (-want +got):\n%s\n%v", diff, err)
				}
			}
		})
	}
	for key := range staleExamples {
		if !seen[key] {
			t.Errorf("staleExamples names %q, which is not an example in the description", key)
		}
	}
}

// mutate decodes body, applies f and encodes it again.
func mutate(t *testing.T, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fixStalePR adds what GitHub's pull-request example lacks (see staleExamples).
func fixStalePR(m map[string]any) {
	for _, team := range m["requested_teams"].([]any) {
		team.(map[string]any)["type"] = "organization"
	}
}

func TestValidateResponseBites(t *testing.T) {
	r := loadREST(t)
	pr := findExample(t, "pulls/get", 200)
	merge := findExample(t, "pulls/merge", 200)
	token := findExample(t, "apps/create-installation-access-token", 201)
	var user example
	for _, e := range loadExamples(t) {
		if e.op == "users/get-by-username" && e.name == "default-response" {
			user = e
		}
	}
	public := func(m map[string]any) { m["user_view_type"] = "public" }
	tests := map[string]struct {
		ex      example
		change  func(m map[string]any)
		wantErr []string // substrings; none means valid
	}{
		"pulls/get, stale fields added": {ex: pr, change: fixStalePR},
		"pulls/get, optional field removed": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			delete(m, "rebaseable") // not in "required"
		}},
		"pulls/get, extra field is allowed": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			m["x_emulator_note"] = "undocumented fields are tolerated, as by GitHub's clients"
		}},
		"pulls/get, required field removed": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			delete(m, "merged")
		}, wantErr: []string{"at /merged: property \"merged\" is missing"}},
		"pulls/get, number as string": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			m["number"] = "1347"
		}, wantErr: []string{"at /number: value must be an integer"}},
		"pulls/get, bad state enum": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			m["state"] = "merged"
		}, wantErr: []string{"at /state: value is not one of the allowed values"}},
		"pulls/get, nested head sha wrong type": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			m["head"].(map[string]any)["sha"] = 42
		}, wantErr: []string{"at /head/sha: value must be a string"}},
		"pulls/get, created_at not a date-time": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			m["created_at"] = "yesterday"
		}, wantErr: []string{"at /created_at: string doesn't match the format \"date-time\""}},
		"pulls/get, url not a uri": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			m["url"] = "repos/octocat/Hello-World/pulls/1347"
		}, wantErr: []string{"at /url: string doesn't match the format \"uri\""}},
		"pulls/get, two violations both reported": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			delete(m, "title")
			m["locked"] = "no"
		}, wantErr: []string{"at /title: property \"title\" is missing", "at /locked: value must be a boolean"}},
		"pulls/get, subject names method, path, operation, status": {ex: pr, change: func(m map[string]any) {
			fixStalePR(m)
			delete(m, "id")
		}, wantErr: []string{"GET /api/v3/repos/x/x/pulls/x (pulls/get) answered 200: does not match GitHub's schema"}},
		"pulls/merge valid":        {ex: merge, change: func(map[string]any) {}},
		"pulls/merge, sha missing": {ex: merge, change: func(m map[string]any) { delete(m, "sha") }, wantErr: []string{"at /sha: property \"sha\" is missing"}},
		"pulls/merge, merged as string": {ex: merge, change: func(m map[string]any) { m["merged"] = "true" },
			wantErr: []string{"at /merged: value must be a boolean"}},
		"users/get, discriminator added": {ex: user, change: public},
		"users/get, email format asserted": {ex: user, change: func(m map[string]any) {
			public(m)
			m["email"] = "octocat at github.com"
		}, wantErr: []string{"at /email: string doesn't match the format \"email\""}},
		"users/get, null email allowed": {ex: user, change: func(m map[string]any) {
			public(m)
			m["email"] = nil
		}},
		"users/get, unknown user_view_type": {ex: user, change: func(m map[string]any) { m["user_view_type"] = "secret" },
			wantErr: []string{`at /: discriminator property "user_view_type" has invalid value`}},
		"installation token valid": {ex: token, change: func(map[string]any) {}},
		"installation token, token missing": {ex: token, change: func(m map[string]any) { delete(m, "token") },
			wantErr: []string{"at /token: property \"token\" is missing"}},
		"installation token, bad repository_selection": {ex: token, change: func(m map[string]any) { m["repository_selection"] = "some" },
			wantErr: []string{"at /repository_selection: value is not one of the allowed values"}},
		"installation token, bad permission level": {ex: token, change: func(m map[string]any) {
			m["permissions"].(map[string]any)["contents"] = "admin"
		}, wantErr: []string{"at /permissions/contents: value is not one of the allowed values"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			body := mutate(t, tc.ex.body, tc.change)
			err := validate(t, r, tc.ex.method, tc.ex.path, tc.ex.status, body)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Errorf("valid body rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("invalid body accepted, want an error containing %q", tc.wantErr)
			}
			var ce *contract.Error
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want *contract.Error", err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
		})
	}
}

func TestValidateResponseRoutesAndStatuses(t *testing.T) {
	r := loadREST(t)
	notFound := []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
	tests := map[string]struct {
		method, path string
		status       int
		header       http.Header
		body         []byte
		wantErr      string // "" means valid
	}{
		"documented 404 with GitHub's error body": {method: "GET", path: "/api/v3/repos/o/r/pulls/1", status: 404, body: notFound},
		"documented 404 with a malformed error body": {method: "GET", path: "/api/v3/repos/o/r/pulls/1", status: 404,
			body: []byte(`{"message":404}`), wantErr: "at /message: value must be a string"},
		"405 documented for merge": {method: "PUT", path: "/api/v3/repos/o/r/pulls/1/merge", status: 405,
			body: []byte(`{"message":"Pull Request is not mergeable","documentation_url":"https://docs.github.com/rest"}`)},
		"409 documented for merge": {method: "PUT", path: "/api/v3/repos/o/r/pulls/1/merge", status: 409,
			body: []byte(`{"message":"Head branch was modified. Review and try the merge again.","documentation_url":"https://docs.github.com/rest"}`)},
		"undocumented status": {method: "GET", path: "/api/v3/repos/o/r/pulls/1", status: 418, body: notFound,
			wantErr: "GET /api/v3/repos/o/r/pulls/1 (pulls/get) answered 418: status 418 is not documented for pulls/get (documented: 200, 304, 404, 406, 500, 503)"},
		"unknown route": {method: "GET", path: "/api/v3/foo", status: 200, body: []byte(`{}`),
			wantErr: "GET /api/v3/foo: not an operation in GitHub's REST description"},
		"known path, unknown method": {method: "DELETE", path: "/api/v3/repos/o/r/pulls/1", status: 204,
			wantErr: "DELETE /api/v3/repos/o/r/pulls/1: GitHub's REST description has the path but no DELETE operation on it"},
		"body is not JSON": {method: "GET", path: "/api/v3/repos/o/r/pulls/1", status: 404, body: []byte(`<html>`),
			wantErr: "GET /api/v3/repos/o/r/pulls/1 (pulls/get) answered 404: does not match GitHub's schema: at /: body is not JSON: invalid character"},
		"404 without a body where GitHub documents none": {method: "GET", path: "/api/v3/repos/o/r/pulls/1/merge", status: 404, header: http.Header{}},
		"wrong content type": {method: "GET", path: "/api/v3/repos/o/r/pulls/1", status: 404, body: notFound,
			header: http.Header{"Content-Type": {"text/plain"}}, wantErr: `at /: response header Content-Type has unexpected value: "text/plain"`},
		"204 without body": {method: "GET", path: "/api/v3/repos/o/r/pulls/1/merge", status: 204, header: http.Header{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = jsonHeader
			}
			req := httptest.NewRequest(tc.method, "http://127.0.0.1:8080"+tc.path, nil)
			err := r.ValidateResponse(req, tc.status, h, tc.body)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("valid response rejected: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("accepted, want error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Errorf("error %q\ndoes not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestOperationRouting(t *testing.T) {
	r := loadREST(t)
	tests := []struct{ method, path, want string }{
		{"GET", "/api/v3/repos/o/r/pulls/1", "pulls/get"},
		{"GET", "/repos/o/r/pulls/1", "pulls/get"}, // api.github.com layout
		{"PUT", "/api/v3/repos/o/r/pulls/1/merge", "pulls/merge"},
		{"GET", "/api/v3/repos/o/r/pulls/1/merge", "pulls/check-if-merged"},
		{"GET", "/api/v3/repos/o/r/git/ref/heads/main", "git/get-ref"},
		{"GET", "/api/v3/repos/o/r/git/ref/heads/feature/alice-prod", "git/get-ref"},
		{"PATCH", "/api/v3/repos/o/r/git/refs/heads/feature/x", "git/update-ref"},
		{"GET", "/api/v3/repos/o/r/git/matching-refs/heads/feature/", "git/list-matching-refs"},
		{"GET", "/api/v3/repos/o/r/contents/access/prod/db/alice-inc-1234.yaml", "repos/get-content"},
		{"PUT", "/api/v3/repos/o/r/contents/README.md", "repos/create-or-update-file-contents"},
		{"GET", "/api/v3/repos/o/r/commits/abc123", "repos/get-commit"},
		{"GET", "/api/v3/repos/o/r/commits/heads/main/status", "repos/get-combined-status-for-ref"},
		{"GET", "/api/v3/repos/o/r/commits/main/statuses", "repos/list-commit-statuses-for-ref"},
		{"GET", "/api/v3/repos/o/r/commits/main/check-runs", "checks/list-for-ref"},
		{"GET", "/api/v3/repos/o/r/compare/main...feature/x", "repos/compare-commits"},
		{"GET", "/api/v3/repos/o/r/branches/main", "repos/get-branch"},
		{"GET", "/api/v3/repos/o/r/branches/main/protection", "repos/get-branch-protection"},
		{"GET", "/api/v3/repos/o/r/branches/release%2F1", "repos/get-branch"},
		{"POST", "/api/v3/app/installations/7/access_tokens", "apps/create-installation-access-token"},
		{"GET", "/api/v3/app", "apps/get-authenticated"},
		{"GET", "/api/v3", ""},
		{"GET", "/api/v3x/app", ""},
		{"GET", "/api/v3/repos/o/r/hooks", ""},
		{"POST", "/api/v3/repos/o/r/pulls/1", ""},
	}
	for _, tc := range tests {
		if got := r.Operation(tc.method, tc.path); got != tc.want {
			t.Errorf("Operation(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestOperationsListsTheDescription(t *testing.T) {
	r := loadREST(t)
	ops := r.Operations()
	if len(ops) != 65 {
		t.Errorf("Operations() has %d entries; the description holds 65", len(ops))
	}
	want := contract.Operation{Method: "GET", Path: "/repos/{owner}/{repo}/contents/{path}", ID: "repos/get-content"}
	found := false
	for _, op := range ops {
		found = found || op == want
		if got := r.Operation(op.Method, strings.NewReplacer("{", "", "}", "").Replace(op.Path)); got != op.ID {
			t.Errorf("%s %s is %s, but routing its own path finds %q", op.Method, op.Path, op.ID, got)
		}
	}
	if !found {
		t.Errorf("Operations() lacks %+v", want)
	}
}

func TestTransportReportsViolations(t *testing.T) {
	pr := findExample(t, "pulls/get", 200)
	good := mutate(t, pr.body, fixStalePR)
	bad := mutate(t, pr.body, func(m map[string]any) { fixStalePR(m); m["state"] = "merged" })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case "/api/v3/repos/o/r/pulls/1":
			w.Write(good)
		case "/api/v3/repos/o/r/pulls/2":
			w.Write(bad)
		case "/o/r.git/info/refs": // git smart HTTP is not REST and is not checked
			w.Write([]byte("not json"))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`))
		}
	}))
	defer srv.Close()

	type report struct{ method, url, err string }
	var mu sync.Mutex
	var reports []report
	client := &http.Client{Transport: contract.NewTransport(nil, func(method, url string, err error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, report{method, url, err.Error()})
	})}
	get := func(path string) []byte {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		path    string
		wantErr string
		body    []byte
	}{
		{"/api/v3/repos/o/r/pulls/1", "", good},
		{"/api/v3/repos/o/r/pulls/2", "at /state: value is not one of the allowed values", bad},
		{"/api/v3/repos/o/r/pulls/3", "", nil},
		{"/api/v3/nope", "GET /api/v3/nope: not an operation in GitHub's REST description", nil},
		{"/o/r.git/info/refs", "", []byte("not json")},
	}
	for _, tc := range tests {
		mu.Lock()
		reports = nil
		mu.Unlock()
		body := get(tc.path)
		if tc.body != nil && string(body) != string(tc.body) {
			t.Errorf("GET %s: caller got %d bytes, want the %d the server sent", tc.path, len(body), len(tc.body))
		}
		mu.Lock()
		got := reports
		mu.Unlock()
		switch {
		case tc.wantErr == "" && len(got) != 0:
			t.Errorf("GET %s: unexpected reports %+v", tc.path, got)
		case tc.wantErr != "" && len(got) != 1:
			t.Errorf("GET %s: %d reports, want 1 containing %q", tc.path, len(got), tc.wantErr)
		case tc.wantErr != "":
			if !strings.Contains(got[0].err, tc.wantErr) || got[0].method != "GET" || got[0].url != srv.URL+tc.path {
				t.Errorf("GET %s: report %+v, want GET %s and an error containing %q", tc.path, got[0], srv.URL+tc.path, tc.wantErr)
			}
		}
	}
}

func TestValidateResponseConcurrently(t *testing.T) {
	r := loadREST(t)
	pr := findExample(t, "pulls/get", 200)
	good := mutate(t, pr.body, fixStalePR)
	bad := mutate(t, pr.body, func(m map[string]any) { fixStalePR(m); delete(m, "merged") })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 5 {
				if err := validate(t, r, "GET", "/api/v3/repos/o/r/pulls/1", 200, good); err != nil {
					t.Errorf("goroutine %d: %v", i, err)
				}
				if err := validate(t, r, "GET", "/api/v3/repos/o/r/pulls/1", 200, bad); err == nil {
					t.Errorf("goroutine %d: invalid body accepted", i)
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkValidatePullRequest is the cost the emulator's tests pay per
// pull-request response (about 24 KB of JSON).
func BenchmarkValidatePullRequest(b *testing.B) {
	r := loadREST(b)
	pr := findExample(b, "pulls/get", 200)
	var m map[string]any
	if err := json.Unmarshal(pr.body, &m); err != nil {
		b.Fatal(err)
	}
	fixStalePR(m)
	body, _ := json.Marshal(m)
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/api/v3/repos/o/r/pulls/1", nil)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := r.ValidateResponse(req, 200, jsonHeader, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseREST is the one-time cost of LoadREST.
func BenchmarkParseREST(b *testing.B) {
	data, err := os.ReadFile("testdata/api.github.com.subset.openapi.json")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := contract.ParseREST(data); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzValidateResponse feeds arbitrary bodies, paths and statuses: the
// validator must never panic, and whatever it rejects it names.
func FuzzValidateResponse(f *testing.F) {
	f.Add("GET", "/api/v3/repos/o/r/pulls/1", 200, []byte(`{"number":1}`))
	f.Add("PUT", "/api/v3/repos/o/r/pulls/1/merge", 200, []byte(`{"sha":"abc","merged":true,"message":"ok"}`))
	f.Add("GET", "/api/v3/repos/o/r/contents/a/b/c", 404, []byte(`{"message":"Not Found"}`))
	f.Add("POST", "/api/v3/app/installations/1/access_tokens", 201, []byte(`{"token":"t","expires_at":"2026-01-01T00:00:00Z"}`))
	f.Add("GET", "/api/v3/repos/o/r/git/ref/heads/%2F", 200, []byte(`[`))
	r, err := contract.LoadREST()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path string, status int, body []byte) {
		req, err := http.NewRequest(method, "http://127.0.0.1:8080"+path, nil)
		if err != nil {
			t.Skip()
		}
		err = r.ValidateResponse(req, status, jsonHeader, body)
		if err != nil && !strings.HasPrefix(err.Error(), req.Method+" "+req.URL.Path) {
			t.Errorf("error %q does not start with the request %s %s", err, req.Method, req.URL.Path)
		}
	})
}
