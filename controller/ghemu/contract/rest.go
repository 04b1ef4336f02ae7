package contract

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// APIPrefix is the path under which the emulator serves the REST API, as a
// GitHub Enterprise Server does. Requests without it are matched as on
// api.github.com.
const APIPrefix = "/api/v3"

//go:embed testdata/api.github.com.subset.openapi.json
var restDescription []byte

// REST is GitHub's REST description (the subset the controller and the
// emulator use), ready to check responses. It is safe for concurrent use.
type REST struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

var loadREST = sync.OnceValues(func() (*REST, error) { return ParseREST(restDescription) })

// LoadREST returns the embedded REST description, parsed on first use and
// shared by every later call in the process.
func LoadREST() (*REST, error) { return loadREST() }

// slashParams are path parameters whose values contain "/" as GitHub's
// clients send them (git refs, file paths, "base...head" with branch names).
// They may span several path segments; everything else is one segment.
var slashParams = regexp.MustCompile(`\{(path|ref|basehead|branch)\}`)

// ParseREST parses an OpenAPI 3.0 description and prepares it for
// ValidateResponse. Most callers want LoadREST.
func ParseREST(data []byte) (*REST, error) {
	// Decoding as JSON and then resolving is several times faster than
	// Loader.LoadFromData, which goes through a YAML parser.
	doc := &openapi3.T{}
	if err := json.Unmarshal(data, doc); err != nil {
		return nil, fmt.Errorf("parsing GitHub's REST description: %w", err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(doc, nil); err != nil {
		return nil, fmt.Errorf("resolving $refs in GitHub's REST description: %w", err)
	}
	// Match any host and scheme; APIPrefix is stripped before routing.
	doc.Servers = nil
	paths := openapi3.NewPaths()
	for p, item := range doc.Paths.Map() {
		paths.Set(slashParams.ReplaceAllString(p, "{$1:.+}"), item)
	}
	doc.Paths = paths
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing GitHub's REST description: %w", err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(validateURI)),
			openapi3.WithStringFormatValidator("email", openapi3.NewCallbackValidator(validateEmail)),
		},
	}
	return &REST{doc: doc, router: router, opts: opts}, nil
}

// validateURI accepts an absolute URI (RFC 3986: a scheme is required).
func validateURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URI", s)
	}
	return nil
}

// validateEmail accepts an RFC 5322 addr-spec without display name.
func validateEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return err
	}
	if a.Address != s {
		return fmt.Errorf("%q is not a bare e-mail address", s)
	}
	return nil
}

// Operation is one operation of GitHub's REST description.
type Operation struct {
	Method string // upper case, such as "PUT"
	Path   string // GitHub's template, such as "/repos/{owner}/{repo}/pulls/{pull_number}/merge"
	ID     string // operationId, such as "pulls/merge"
}

// Operations lists every operation in the description, sorted by path and
// method, so that a test can check which ones the emulator serves.
func (r *REST) Operations() []Operation {
	var out []Operation
	for p, item := range r.doc.Paths.Map() {
		for m, op := range item.Operations() {
			out = append(out, Operation{Method: m, Path: routeParam.ReplaceAllString(p, "{$1}"), ID: op.OperationID})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// routeParam undoes the slashParams rewrite.
var routeParam = regexp.MustCompile(`\{([a-z_]+):\.\+\}`)

// Operation returns the operationId (such as "pulls/get") that GitHub's
// description assigns to method and path (with or without APIPrefix), or ""
// when it has none.
func (r *REST) Operation(method, path string) string {
	req := &http.Request{Method: method, URL: stripPrefix(&url.URL{Path: path})}
	route, _, err := r.router.FindRoute(req)
	if err != nil {
		return ""
	}
	return route.Operation.OperationID
}

// ValidateResponse checks one response of the emulator to req against
// GitHub's description. It returns an error when the request is not an
// operation in the description, when status is not documented for the
// operation (and there is no "default" response), or when the body does not
// match the documented schema for status; a schema mismatch is an *Error
// listing the JSON pointer of every violation. Missing optional properties
// and undocumented extra properties are accepted, as GitHub's clients must.
func (r *REST) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	subject := fmt.Sprintf("%s %s", req.Method, req.URL.Path)
	routed := req.Clone(req.Context())
	routed.URL = stripPrefix(req.URL)
	route, params, err := r.router.FindRoute(routed)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return fmt.Errorf("%s: GitHub's REST description has the path but no %s operation on it", subject, req.Method)
	case err != nil:
		return fmt.Errorf("%s: not an operation in GitHub's REST description", subject)
	}
	op := route.Operation
	subject = fmt.Sprintf("%s (%s) answered %d", subject, op.OperationID, status)
	if op.Responses.Status(status) == nil && op.Responses.Default() == nil {
		return fmt.Errorf("%s: status %d is not documented for %s (documented: %s)",
			subject, status, op.OperationID, strings.Join(documented(op), ", "))
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: routed, PathParams: params, Route: route, Options: r.opts,
		},
		Status:  status,
		Header:  header,
		Options: r.opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return &Error{Subject: subject, Violations: sortViolations(restViolations(err))}
	}
	return nil
}

// stripPrefix returns a copy of u without APIPrefix, keeping the escaping.
func stripPrefix(u *url.URL) *url.URL {
	c := *u
	esc, ok := strings.CutPrefix(u.EscapedPath(), APIPrefix)
	if !ok || (esc != "" && esc[0] != '/') {
		return &c
	}
	if p, err := url.PathUnescape(esc); err == nil {
		c.Path, c.RawPath = p, esc
	}
	return &c
}

// documented lists the status codes op documents, in order.
func documented(op *openapi3.Operation) []string {
	codes := slices.Collect(func(yield func(string) bool) {
		for k := range op.Responses.Map() {
			if !yield(k) {
				return
			}
		}
	})
	sort.Slice(codes, func(i, j int) bool {
		a, errA := strconv.Atoi(codes[i])
		b, errB := strconv.Atoi(codes[j])
		if errA != nil || errB != nil {
			return codes[i] < codes[j]
		}
		return a < b
	})
	return codes
}

// restViolations turns kin-openapi's error tree into violations.
func restViolations(err error) []Violation {
	var out []Violation
	var walk func(err error)
	walk = func(err error) {
		var me openapi3.MultiError
		var se *openapi3.SchemaError
		var re *openapi3filter.ResponseError
		switch {
		case errors.As(err, &me):
			for _, e := range me {
				walk(e)
			}
		case errors.As(err, &se):
			out = append(out, Violation{Pointer: pointer(se.JSONPointer()), Msg: schemaReason(se)})
		case errors.As(err, &re) && re.Err == nil:
			out = append(out, Violation{Msg: re.Reason})
		case errors.As(err, &re) && strings.HasPrefix(re.Reason, "failed to decode"):
			out = append(out, Violation{Msg: "body is not JSON: " + re.Err.Error()})
		default:
			out = append(out, Violation{Msg: err.Error()})
		}
	}
	walk(err)
	return out
}

// schemaReason describes se without dumping the schema or the value.
func schemaReason(se *openapi3.SchemaError) string {
	msg := se.Reason
	if se.SchemaField != "" {
		msg = fmt.Sprintf("%s (schema keyword %q)", msg, se.SchemaField)
	}
	return msg
}
