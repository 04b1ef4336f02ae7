package ghapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// graphqlRoute is how GraphQL requests are observed and reported.
const graphqlRoute = "POST /graphql"

// ErrCleanStatus is returned (wrapped with GitHub's message) by
// EnableAutoMerge when GitHub refuses auto-merge because the pull request
// could merge right now ("Pull request is in clean status"): merge it
// through Merge with the same head sha instead.
var ErrCleanStatus = errors.New("GitHub refuses auto-merge because the pull request can merge now; merge it instead")

// GraphQLError is GitHub's refusal of a GraphQL mutation (an answer with
// errors and no result).
type GraphQLError struct {
	Field    string   // the mutation, e.g. "enablePullRequestAutoMerge"
	Types    []string // GitHub's error types (NOT_FOUND, FORBIDDEN, UNPROCESSABLE, …), "" when none
	Messages []string // GitHub's messages, in order
}

// As lets a GraphQLError read as the *Error it also is: GitHub's answer,
// with HTTP status 200 (GraphQL refusals come with 200), so that it is
// never taken for an answer that leaves the mutation's effect unknown.
func (e *GraphQLError) As(target any) bool {
	t, ok := target.(**Error)
	if ok {
		*t = &Error{Route: graphqlRoute, Status: http.StatusOK, Message: strings.Join(e.Messages, "; ")}
	}
	return ok
}

// Error names the mutation and carries every message GitHub gave.
func (e *GraphQLError) Error() string {
	return fmt.Sprintf("%s %s: GitHub refused it: %s", graphqlRoute, e.Field, strings.Join(e.Messages, "; "))
}

// AutoMergeRequest is what EnableAutoMerge asks for. The merge method is
// always a merge commit: jit never squashes or rebases.
type AutoMergeRequest struct {
	PullRequestID   string // the pull request's node_id
	ExpectedHeadOID string // the head the decision was made on; GitHub refuses if it moved
	CommitHeadline  string // the merge commit's title
	CommitBody      string // the merge commit's body (signed trailers)
}

// graphqlURL is the GraphQL endpoint beside the REST base URL base:
// https://api.github.com/ → https://api.github.com/graphql, and a GitHub
// Enterprise Server's https://HOST/api/v3/ → https://HOST/api/graphql.
func graphqlURL(base *url.URL) string {
	u := *base
	if p, ok := strings.CutSuffix(u.Path, "/api/v3/"); ok {
		u.Path = p + "/api/graphql"
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	}
	u.RawPath = ""
	return u.String()
}

// mutate runs a GraphQL mutation with its input as the variable $input and
// decodes field's result into out. ctx names the route and whether the
// transport may repeat the request.
func (c *Client) mutate(ctx context.Context, field, inputType string, input, out any) error {
	body := map[string]any{
		"query": "mutation($input: " + inputType + "!) { " + field +
			"(input: $input) { clientMutationId pullRequest { id number autoMergeRequest { enabledAt mergeMethod enabledBy { login } } } } }",
		"variables": map[string]any{"input": input},
	}
	req, err := c.gh.NewRequest("POST", graphqlURL(c.gh.BaseURL), body)
	if err != nil {
		return fmt.Errorf("%s %s: building the request: %w", graphqlRoute, field, err)
	}
	var ans struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if _, err := c.gh.Do(ctx, req, &ans); err != nil {
		return wrap(graphqlRoute, err)
	}
	if len(ans.Errors) > 0 {
		ge := &GraphQLError{Field: field}
		for _, e := range ans.Errors {
			ge.Types = append(ge.Types, e.Type)
			ge.Messages = append(ge.Messages, e.Message)
		}
		return classifyGraphQL(ge)
	}
	raw := ans.Data[field]
	if len(raw) == 0 || string(raw) == "null" {
		return fmt.Errorf("%s %s: GitHub answered neither a result nor an error; check the pull request and try again", graphqlRoute, field)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: GitHub's result is not the expected payload: %w", graphqlRoute, field, err)
	}
	return nil
}

// classifyGraphQL maps GitHub's refusals the caller acts on to this
// package's errors, keeping GitHub's messages: a head that moved is
// ErrHeadChanged, a pull request that could merge now is ErrCleanStatus.
func classifyGraphQL(ge *GraphQLError) error {
	for _, m := range ge.Messages {
		l := strings.ToLower(m)
		switch {
		case strings.Contains(l, "clean status"):
			return fmt.Errorf("%w: %w", ErrCleanStatus, ge)
		case strings.Contains(l, "head branch was modified"), strings.Contains(l, "expected head"):
			return fmt.Errorf("%w: %w", ErrHeadChanged, ge)
		}
	}
	return ge
}

// autoMergePayload is the part of the mutations' payload read back.
type autoMergePayload struct {
	PullRequest struct {
		Number           int `json:"number"`
		AutoMergeRequest *struct {
			EnabledBy struct {
				Login string `json:"login"`
			} `json:"enabledBy"`
		} `json:"autoMergeRequest"`
	} `json:"pullRequest"`
}

// EnableAutoMerge asks GitHub to merge the pull request (merge commit, with
// r's headline and body) as soon as its required checks and reviews are
// satisfied, provided its head is still r.ExpectedHeadOID. A head that
// moved is ErrHeadChanged; a pull request that can merge right now is
// ErrCleanStatus (merge it through Merge instead); any other refusal is a
// *GraphQLError carrying GitHub's messages.
//
// An enable whose answer was lost (5xx, no response) is not sent again
// blindly: the pull request is read first, and an auto-merge enabled by
// this App at r.ExpectedHeadOID (or a merge of that head by it) counts as
// done.
//
// https://docs.github.com/graphql/reference/mutations#enablepullrequestautomerge
func (c *Client) EnableAutoMerge(ctx context.Context, r AutoMergeRequest) error {
	if r.PullRequestID == "" || r.ExpectedHeadOID == "" {
		return fmt.Errorf("enabling auto-merge: the request needs PullRequestID (the node_id) and ExpectedHeadOID, got %+v", r)
	}
	var number int
	enable := func() (struct{}, error) {
		var p autoMergePayload
		err := c.mutate(withCreate(ctx, graphqlRoute), "enablePullRequestAutoMerge", "EnablePullRequestAutoMergeInput", map[string]any{
			"pullRequestId": r.PullRequestID, "expectedHeadOid": r.ExpectedHeadOID, "mergeMethod": "MERGE",
			"commitHeadline": r.CommitHeadline, "commitBody": r.CommitBody,
		}, &p)
		return struct{}{}, err
	}
	find := func() (struct{}, bool, error) {
		if number == 0 {
			n, err := c.pullNumberByNodeID(ctx, r.PullRequestID)
			if err != nil {
				return struct{}{}, false, err
			}
			number = n
		}
		const route = "GET /repos/{owner}/{repo}/pulls/{pull_number}"
		p, _, err := c.gh.PullRequests.Get(withRoute(ctx, route), c.owner, c.repo, number)
		if err != nil {
			return struct{}{}, false, wrap(route, err)
		}
		bot, err := c.bot(ctx)
		if err != nil {
			return struct{}{}, false, err
		}
		if p.GetHead().GetSHA() != r.ExpectedHeadOID {
			return struct{}{}, false, fmt.Errorf("enabling auto-merge on #%d at %s: %w: the head is now %s", number, r.ExpectedHeadOID, ErrHeadChanged, p.GetHead().GetSHA())
		}
		byBot := func(u *github.User) bool { return strings.EqualFold(u.GetLogin(), bot) }
		done := (p.GetState() == "open" && p.AutoMerge != nil && byBot(p.AutoMerge.GetEnabledBy())) ||
			(p.GetMerged() && byBot(p.GetMergedBy()))
		return struct{}{}, done, nil
	}
	_, err := createOnce(ctx, c, enable, find)
	return err
}

// pullNumberByNodeID finds the number of the open pull request whose
// node_id is nodeID. Only open ones are listed (the access repository's
// closed ones grow without end): one closed or merged meanwhile is an
// error, left to the caller's reconciliation.
func (c *Client) pullNumberByNodeID(ctx context.Context, nodeID string) (int, error) {
	ps, err := pages(ctx, "GET /repos/{owner}/{repo}/pulls", func(ctx context.Context, opt github.ListOptions) ([]*github.PullRequest, *github.Response, error) {
		return c.gh.PullRequests.List(ctx, c.owner, c.repo, &github.PullRequestListOptions{State: "open", ListOptions: opt})
	})
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		if p.GetNodeID() == nodeID {
			return p.GetNumber(), nil
		}
	}
	return 0, fmt.Errorf("no open pull request of %s has node_id %q: it was closed or merged meanwhile, or the id is wrong; read the pull request again", c.FullName(), nodeID)
}

// DisableAutoMerge turns auto-merge off on the pull request with node_id
// pullRequestID. A pull request without auto-merge is left as it is (the
// call is idempotent, so it is safe to repeat); any other refusal is a
// *GraphQLError carrying GitHub's messages.
//
// https://docs.github.com/graphql/reference/mutations#disablepullrequestautomerge
func (c *Client) DisableAutoMerge(ctx context.Context, pullRequestID string) error {
	if pullRequestID == "" {
		return errors.New("disabling auto-merge: the pull request's node_id is empty; give PullRequest.NodeID")
	}
	var p autoMergePayload
	err := c.mutate(withRoute(ctx, graphqlRoute), "disablePullRequestAutoMerge", "DisablePullRequestAutoMergeInput",
		map[string]any{"pullRequestId": pullRequestID}, &p)
	var ge *GraphQLError
	if errors.As(err, &ge) && slicesContainFold(ge.Messages, "auto merge is not enabled") {
		return nil
	}
	return err
}

// slicesContainFold reports whether any of msgs contains sub, ignoring case.
func slicesContainFold(msgs []string, sub string) bool {
	for _, m := range msgs {
		if strings.Contains(strings.ToLower(m), sub) {
			return true
		}
	}
	return false
}
