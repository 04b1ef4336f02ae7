package ghemu

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// GraphQL. Auto-merge is GraphQL only on GitHub, so the emulator answers
// POST /api/graphql (GitHub Enterprise Server's path) and POST /graphql
// (github.com's) for exactly two mutations: enablePullRequestAutoMerge and
// disablePullRequestAutoMerge. There is no GraphQL parser: the mutation is
// recognised by its field name in the document and its input is taken from
// the variable the field's input argument names; an input written inline
// is refused with an error saying to pass it as a variable. The answer has
// a fixed shape, whatever the selection asked for (see autoMergePayload).
// The endpoint is outside the REST contract (GitHub's OpenAPI description
// has no GraphQL), so nothing validates it against a schema.

// graphqlRoute is how GraphQL requests are recorded (Request.Route) and the
// route FailNext and RateLimitNext take for them.
const graphqlRoute = "POST /graphql"

const graphqlDocs = "https://docs.github.com/graphql"

// The two mutations the emulator knows.
const (
	enableAutoMergeField  = "enablePullRequestAutoMerge"
	disableAutoMergeField = "disablePullRequestAutoMerge"
)

// gqlError is one entry of a GraphQL answer's errors list. Field errors
// carry GitHub's type (NOT_FOUND, FORBIDDEN, UNPROCESSABLE) and the path of
// the field; document and variable errors only a message.
type gqlError struct {
	Type    string   `json:"type,omitempty"`
	Path    []string `json:"path,omitempty"`
	Message string   `json:"message"`
}

// errGraphQL is a document GitHub would refuse before running it; its
// message is the error's.
type errGraphQL struct{ msg string }

func (e *errGraphQL) Error() string { return e.msg }

func gqlRefusal(msg string) error { return &errGraphQL{msg: msg} }

// isNameChar reports whether b may continue a GraphQL name.
func isNameChar(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}

// skipIgnored skips GraphQL's ignored tokens (white space, commas and
// comments) from i.
func skipIgnored(q string, i int) int {
	for i < len(q) {
		switch q[i] {
		case ' ', '\t', '\n', '\r', ',':
			i++
		case '#':
			for i < len(q) && q[i] != '\n' && q[i] != '\r' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

// readName reads a GraphQL name at i, returning it and the index after it.
func readName(q string, i int) (string, int) {
	j := i
	for j < len(q) && isNameChar(q[j]) {
		j++
	}
	return q[i:j], j
}

// parseMutation finds which auto-merge mutation a GraphQL document runs and
// the name of the variable its input argument takes ("input" for
// `enablePullRequestAutoMerge(input: $input)`). It refuses a document that
// is not a mutation, names neither or both mutations (or one twice), or
// writes the input inline; field is set when the document names one
// mutation but passes its input wrongly.
func parseMutation(q string) (field, variable string, err error) {
	i := skipIgnored(q, 0)
	if kw, _ := readName(q, i); kw != "mutation" {
		return "", "", gqlRefusal("the emulator answers only the mutations " + enableAutoMergeField + " and " +
			disableAutoMergeField + "; send a document starting with \"mutation\"")
	}
	at := -1
	for _, name := range []string{enableAutoMergeField, disableAutoMergeField} {
		for k := 0; ; {
			n := strings.Index(q[k:], name)
			if n < 0 {
				break
			}
			start, end := k+n, k+n+len(name)
			k = end
			if (start > 0 && isNameChar(q[start-1])) || (end < len(q) && isNameChar(q[end])) {
				continue
			}
			if field != "" {
				return "", "", gqlRefusal("the document selects more than one auto-merge mutation; send " +
					enableAutoMergeField + " or " + disableAutoMergeField + " alone")
			}
			field, at = name, end
		}
	}
	if field == "" {
		return "", "", gqlRefusal("the emulator answers only the mutations " + enableAutoMergeField + " and " + disableAutoMergeField)
	}
	i = skipIgnored(q, at)
	if i >= len(q) || q[i] != '(' {
		return field, "", gqlRefusal("Field '" + field + "' is missing required arguments: input")
	}
	i = skipIgnored(q, i+1)
	arg, i := readName(q, i)
	i = skipIgnored(q, i)
	if arg != "input" || i >= len(q) || q[i] != ':' {
		return field, "", gqlRefusal("Field '" + field + "' takes one argument, input; write " + field + "(input: $input)")
	}
	i = skipIgnored(q, i+1)
	if i >= len(q) || q[i] != '$' {
		return field, "", gqlRefusal("the emulator does not read inline GraphQL arguments; pass the input of " + field +
			" as a variable: " + field + "(input: $input) with {\"variables\": {\"input\": {...}}}")
	}
	variable, _ = readName(q, i+1)
	if variable == "" {
		return field, "", gqlRefusal("the input of " + field + " names no variable after \"$\"")
	}
	return field, variable, nil
}

// autoMergeInput is EnablePullRequestAutoMergeInput; disabling takes only
// pullRequestId and clientMutationId.
type autoMergeInput struct {
	PullRequestID    *string `json:"pullRequestId"`
	MergeMethod      *string `json:"mergeMethod"`
	CommitHeadline   *string `json:"commitHeadline"`
	CommitBody       *string `json:"commitBody"`
	AuthorEmail      *string `json:"authorEmail"`
	ExpectedHeadOid  *string `json:"expectedHeadOid"`
	ClientMutationID *string `json:"clientMutationId"`
}

// inputFields are the fields each mutation's input type has.
var inputFields = map[string][]string{
	enableAutoMergeField: {"pullRequestId", "mergeMethod", "commitHeadline", "commitBody", "authorEmail",
		"expectedHeadOid", "clientMutationId"},
	disableAutoMergeField: {"pullRequestId", "clientMutationId"},
}

// inputType is the GraphQL type name of field's input.
func inputType(field string) string {
	return strings.ToUpper(field[:1]) + field[1:] + "Input"
}

// decodeAutoMergeInput reads the input of field from variable, refusing it
// as GitHub refuses variables that do not fit the input type.
func decodeAutoMergeInput(field, variable string, vars map[string]json.RawMessage) (autoMergeInput, error) {
	var in autoMergeInput
	prefix := "Variable $" + variable + " of type " + inputType(field) + "! was provided invalid value"
	raw, ok := vars[variable]
	if !ok || string(raw) == "null" {
		return in, gqlRefusal(prefix + " (Expected value to not be null)")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return in, gqlRefusal(prefix + " (Expected an object)")
	}
	for k := range fields {
		if !slices.Contains(inputFields[field], k) {
			return in, gqlRefusal(prefix + " for " + k + " (Field is not defined on " + inputType(field) + ")")
		}
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, gqlRefusal(prefix + " (every field is a string)")
	}
	if in.PullRequestID == nil {
		return in, gqlRefusal(prefix + " for pullRequestId (Expected value to not be null)")
	}
	if m := in.MergeMethod; m != nil && *m != "MERGE" && *m != "SQUASH" && *m != "REBASE" {
		return in, gqlRefusal(prefix + " for mergeMethod (Expected \"" + *m + "\" to be one of: MERGE, SQUASH, REBASE)")
	}
	if o := in.ExpectedHeadOid; o != nil && !isHexSHA(*o) {
		return in, gqlRefusal(prefix + " for expectedHeadOid (Could not coerce value \"" + *o + "\" to GitObjectID)")
	}
	return in, nil
}

// serveGraphQL answers POST /api/graphql and POST /graphql.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	id, authErr := s.authenticate(r)
	defer func() {
		s.record(Request{Method: r.Method, Route: graphqlRoute, Path: r.URL.Path, Login: id.login(), Status: sw.status})
	}()
	if s.injectFault(sw, graphqlRoute, id) {
		return
	}
	switch {
	case authErr != nil:
		writeJSON(sw, http.StatusUnauthorized, errorBody{Message: authErr.Error(), DocumentationURL: graphqlDocs})
		return
	case id.kind == anonymous:
		writeJSON(sw, http.StatusUnauthorized, errorBody{Message: "This endpoint requires you to be authenticated.", DocumentationURL: graphqlDocs})
		return
	}
	var in struct {
		Query     string                     `json:"query"`
		Variables map[string]json.RawMessage `json:"variables"`
	}
	if err := readBody(r, &in); err != nil {
		writeJSON(sw, http.StatusBadRequest, errorBody{Message: "Problems parsing JSON", DocumentationURL: graphqlDocs})
		return
	}
	field, variable, err := parseMutation(in.Query)
	var input autoMergeInput
	if err == nil {
		input, err = decodeAutoMergeInput(field, variable, in.Variables)
	}
	if err != nil {
		if field == "" && s.cfg.OnUnhandled != nil {
			s.cfg.OnUnhandled(r.Method, r.URL.Path+" "+err.Error())
		}
		writeJSON(sw, http.StatusOK, obj{"errors": []gqlError{{Message: err.Error()}}})
		return
	}
	ctx := context.WithoutCancel(r.Context())
	var data obj
	var gerr *gqlError
	if field == enableAutoMergeField {
		data, gerr = s.enableAutoMerge(ctx, id, input)
	} else {
		data, gerr = s.disableAutoMergeRequest(ctx, id, input)
	}
	if gerr != nil {
		gerr.Path = []string{field}
		writeJSON(sw, http.StatusOK, obj{"data": obj{field: nil}, "errors": []gqlError{*gerr}})
		return
	}
	data["clientMutationId"] = strPtr(input.ClientMutationID)
	writeJSON(sw, http.StatusOK, obj{"data": obj{field: data}})
}

// pullByNodeID finds the pull request whose node_id is nodeID among the
// repositories id may read, or answers GitHub's NOT_FOUND error.
func (s *Server) pullByNodeID(id identity, nodeIDArg string) (*repo, *pull, *gqlError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rp := range s.st.repoList {
		if !s.canRead(id, rp) {
			continue
		}
		for _, is := range rp.issues {
			if p := is.pr; p != nil && nodeID("PullRequest", p.id) == nodeIDArg {
				return rp, p, nil
			}
		}
	}
	return nil, nil, &gqlError{Type: "NOT_FOUND", Message: "Could not resolve to a node with the global id of '" + nodeIDArg + "'"}
}

// autoMergeDenied is the FORBIDDEN error when id may not change auto-merge
// on rp, or nil. The caller holds s.mu.
func (s *Server) autoMergeDenied(id identity, rp *repo, field string) *gqlError {
	for _, perm := range []string{"contents", "pull_requests"} {
		msg := s.writeDenied(id, rp, perm)
		if msg == "" {
			continue
		}
		if id.kind == userToken {
			msg = id.acct.login + " does not have permission to run " + field + " on " + rp.fullName() + "; it needs write access"
		}
		return &gqlError{Type: "FORBIDDEN", Message: msg}
	}
	return nil
}

// unprocessable is GitHub's UNPROCESSABLE error; GitHub prefixes the
// messages of pull request validations with "Pull request ".
func unprocessable(msg string) *gqlError {
	return &gqlError{Type: "UNPROCESSABLE", Message: "Pull request " + msg}
}

// cleanStatusMessage is GitHub's (doubled) wording when auto-merge is
// enabled on a pull request that could merge right now.
const cleanStatusMessage = "Pull request is in clean status"

// enableAutoMerge runs enablePullRequestAutoMerge for id.
func (s *Server) enableAutoMerge(ctx context.Context, id identity, in autoMergeInput) (obj, *gqlError) {
	rp, p, gerr := s.pullByNodeID(id, *in.PullRequestID)
	if gerr != nil {
		return nil, gerr
	}
	method := "merge"
	if in.MergeMethod != nil {
		method = strings.ToLower(*in.MergeMethod)
	}
	// Serialised with pushes and merges: the head cannot move between the
	// checks and the record.
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	s.refreshPull(ctx, rp, p)
	s.mu.Lock()
	gerr = s.autoMergeRefusal(rp, p, id, method, in.ExpectedHeadOid)
	if gerr == nil {
		p.autoMerge = &autoMerge{by: id, method: method, title: in.CommitHeadline, message: in.CommitBody, enabled: s.now().UTC()}
		p.updated = p.autoMerge.enabled
		s.log.Info("auto-merge enabled", logKeyRepo, rp.fullName(), logKeyPR, p.number, logKeyLogin, id.login())
		s.emitPullRequest(ctx, rp, id, p, "auto_merge_enabled", nil)
	}
	s.mu.Unlock()
	if gerr != nil {
		return nil, gerr
	}
	s.runAutoMerges(ctx, rp)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.autoMergePayload(rp, p), nil
}

// autoMergeRefusal is the error enabling auto-merge on p answers, or nil.
// The caller holds s.mu.
func (s *Server) autoMergeRefusal(rp *repo, p *pull, id identity, method string, expectedHead *string) *gqlError {
	if gerr := s.autoMergeDenied(id, rp, enableAutoMergeField); gerr != nil {
		return gerr
	}
	switch {
	case !rp.allowAutoMerge:
		return unprocessable("Auto merge is not allowed for this repository")
	case method == "rebase":
		return unprocessable("Merge method rebase merging is not allowed on this repository")
	case p.mergedAt != nil:
		return unprocessable("Pull request is already merged")
	case p.state != "open":
		return unprocessable("Pull request is closed")
	case p.draft:
		return unprocessable("Pull request is in draft state")
	case expectedHead != nil && *expectedHead != p.headSHA:
		return &gqlError{Type: "UNPROCESSABLE", Message: "Head branch was modified. Review and try the merge again."}
	case p.stats.known && p.stats.mergeable && s.protectionMessage(rp, p, p.headSHA) == "":
		return unprocessable(cleanStatusMessage)
	}
	return nil
}

// disableAutoMergeRequest runs disablePullRequestAutoMerge for id.
func (s *Server) disableAutoMergeRequest(ctx context.Context, id identity, in autoMergeInput) (obj, *gqlError) {
	rp, p, gerr := s.pullByNodeID(id, *in.PullRequestID)
	if gerr != nil {
		return nil, gerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gerr := s.autoMergeDenied(id, rp, disableAutoMergeField); gerr != nil {
		return nil, gerr
	}
	if p.autoMerge == nil || p.state != "open" {
		return nil, unprocessable("Auto merge is not enabled for this pull request")
	}
	s.disableAutoMerge(ctx, rp, p, id, reasonDisabledByID+id.login())
	p.updated = s.now().UTC()
	return s.autoMergePayload(rp, p), nil
}

// autoMergePayload is the mutations' payload (without clientMutationId):
// the pull request's id, number and autoMergeRequest (null without one).
// The caller holds s.mu.
func (s *Server) autoMergePayload(rp *repo, p *pull) obj {
	var req any
	if am := p.autoMerge; am != nil {
		title, message := autoMergeText(rp, p)
		req = obj{
			"enabledAt": am.enabled.Format(time.RFC3339), "mergeMethod": strings.ToUpper(am.method),
			"commitHeadline": title, "commitBody": message, "enabledBy": obj{"login": am.by.acct.login},
		}
	}
	return obj{"pullRequest": obj{"id": nodeID("PullRequest", p.id), "number": p.number, "autoMergeRequest": req}}
}
