package ghapi

import (
	"context"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// CheckRun is what a check run on a commit should show.
type CheckRun struct {
	Name, HeadSHA          string
	Status                 string // "in_progress" or "completed"
	Conclusion             string // with completed: "success", "failure", "neutral", "action_required"
	Title, Summary, Text   string
	DetailsURL, ExternalID string
	Annotations            []Annotation
}

// Annotation points a check run's finding at a place in a file.
type Annotation struct {
	Path                                       string
	StartLine, EndLine, StartColumn, EndColumn int    // columns only when StartLine == EndLine
	Level                                      string // "notice", "warning", "failure"
	Title, Message                             string
}

// Limits GitHub puts on a check run's output.
const (
	maxAnnotations = 50    // per request
	maxOutputLen   = 65535 // summary and text, in characters
)

// truncatedNote ends an output cut to GitHub's limit.
const truncatedNote = "\n\n… (truncated: GitHub keeps at most 65535 characters)"

// shaChecks is what this process knows of its check runs on one commit.
type shaChecks struct {
	listed  bool
	ids     map[string]int64    // name → our run's id
	written map[string]CheckRun // name → what was last written
}

// PutCheckRun makes the check run named Name on HeadSHA show cr: the first call for a
// (HeadSHA, Name) in this process lists the ref's check runs once (GET
// /commits/{sha}/check-runs, one call serving every name for that sha, filtered to this App's
// own runs; not for a commit the client made itself on a new branch, which has none) and
// updates ours if it exists, else creates one; later calls PATCH the known id,
// and a call whose content equals what was last written makes no request at all. GitHub takes
// at most 50 annotations per request: send the rest in further PATCHes. Summary ≤ 65535 chars
// (truncate with a note). Returns the check run id.
//
// https://docs.github.com/rest/checks/runs
func (c *Client) PutCheckRun(ctx context.Context, cr CheckRun) (int64, error) {
	if cr.Name == "" || cr.HeadSHA == "" {
		return 0, fmt.Errorf("putting a check run: name %q and head sha %q must both be set", cr.Name, cr.HeadSHA)
	}
	unlock := c.shaLocks.lock(cr.HeadSHA)
	defer unlock()
	c.mu.Lock()
	st := c.checks[cr.HeadSHA]
	if st == nil {
		st = &shaChecks{ids: map[string]int64{}, written: map[string]CheckRun{}}
		c.checks[cr.HeadSHA] = st
	}
	id, known := st.ids[cr.Name]
	last, wrote := st.written[cr.Name]
	listed := st.listed
	c.mu.Unlock()
	if known && wrote && reflect.DeepEqual(last, cr) {
		return id, nil
	}
	if !known && !listed {
		ids, err := c.ownCheckRuns(ctx, cr.HeadSHA)
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		for n, i := range ids {
			if _, ok := st.ids[n]; !ok {
				st.ids[n] = i
			}
		}
		st.listed = true
		id, known = st.ids[cr.Name]
		c.mu.Unlock()
	}
	bs := batches(cr.Annotations)
	var first []*github.CheckRunAnnotation
	if len(bs) > 0 {
		first, bs = bs[0], bs[1:]
	}
	out := output(cr, first)
	var err error
	if known {
		id, err = c.updateCheckRun(ctx, id, cr, out)
	} else {
		id, err = c.createCheckRun(ctx, cr, out)
	}
	for _, b := range bs {
		if err != nil {
			break
		}
		_, err = c.updateCheckRun(ctx, id, CheckRun{Name: cr.Name, Status: cr.Status, Conclusion: cr.Conclusion}, output(cr, b))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id != 0 {
		st.ids[cr.Name] = id
	}
	if err != nil {
		// What GitHub shows is unknown now: write again next time.
		delete(st.written, cr.Name)
		return 0, err
	}
	st.written[cr.Name] = cr
	return id, nil
}

// newCommit notes that sha is a commit this client has just made and put on
// a branch that did not exist: no check run of this App can be on it yet,
// so PutCheckRun creates its runs without listing first.
func (c *Client) newCommit(sha string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.checks[sha] == nil {
		c.checks[sha] = &shaChecks{listed: true, ids: map[string]int64{}, written: map[string]CheckRun{}}
	}
}

// ownCheckRuns lists the check runs on sha made by this App: name → id (the
// newest run of each name).
func (c *Client) ownCheckRuns(ctx context.Context, sha string) (map[string]int64, error) {
	const route = "GET /repos/{owner}/{repo}/commits/{ref}/check-runs"
	runs, err := pages(ctx, route, func(ctx context.Context, opt github.ListOptions) ([]*github.CheckRun, *github.Response, error) {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, c.owner, c.repo, sha,
			&github.ListCheckRunsOptions{AppID: &c.appID, ListOptions: opt})
		if res == nil {
			return nil, resp, err
		}
		return res.CheckRuns, resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing the check runs on %s: %w", sha, err)
	}
	ids := map[string]int64{}
	for _, r := range runs {
		// The app_id filter is a request; keep to our own runs regardless,
		// so another App's run of the same name is never overwritten.
		if r.GetApp().GetID() != c.appID {
			continue
		}
		if old, ok := ids[r.GetName()]; !ok || r.GetID() > old {
			ids[r.GetName()] = r.GetID()
		}
	}
	return ids, nil
}

func (c *Client) createCheckRun(ctx context.Context, cr CheckRun, out *github.CheckRunOutput) (int64, error) {
	const route = "POST /repos/{owner}/{repo}/check-runs"
	opts := github.CreateCheckRunOptions{Name: cr.Name, HeadSHA: cr.HeadSHA, Status: &cr.Status, Output: out}
	if cr.Status == "completed" {
		opts.Conclusion = &cr.Conclusion
	}
	opts.DetailsURL = optional(cr.DetailsURL)
	opts.ExternalID = optional(cr.ExternalID)
	create := func() (int64, error) {
		r, _, err := c.gh.Checks.CreateCheckRun(withCreate(ctx, route), c.owner, c.repo, opts)
		if err != nil {
			return 0, wrap(route, err)
		}
		return r.GetID(), nil
	}
	find := func() (int64, bool, error) {
		ids, err := c.ownCheckRuns(ctx, cr.HeadSHA)
		id, ok := ids[cr.Name]
		return id, ok, err
	}
	return createOnce(ctx, c, create, find)
}

func (c *Client) updateCheckRun(ctx context.Context, id int64, cr CheckRun, out *github.CheckRunOutput) (int64, error) {
	const route = "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"
	opts := github.UpdateCheckRunOptions{Name: cr.Name, Output: out}
	if cr.Status != "" {
		opts.Status = &cr.Status
	}
	if cr.Status == "completed" {
		opts.Conclusion = &cr.Conclusion
	}
	opts.DetailsURL = optional(cr.DetailsURL)
	opts.ExternalID = optional(cr.ExternalID)
	r, _, err := c.gh.Checks.UpdateCheckRun(withRoute(ctx, route), c.owner, c.repo, id, opts)
	if err != nil {
		return id, wrap(route, err)
	}
	return r.GetID(), nil
}

// output is cr's output carrying annotations as.
func output(cr CheckRun, as []*github.CheckRunAnnotation) *github.CheckRunOutput {
	if cr.Title == "" && cr.Summary == "" && cr.Text == "" && len(as) == 0 {
		return nil
	}
	out := &github.CheckRunOutput{Title: &cr.Title, Summary: github.String(limit(cr.Summary)), Annotations: as}
	if cr.Text != "" {
		out.Text = github.String(limit(cr.Text))
	}
	return out
}

// batches converts annotations and splits them into requests of at most 50.
func batches(as []Annotation) [][]*github.CheckRunAnnotation {
	var out [][]*github.CheckRunAnnotation
	for len(as) > 0 {
		n := min(len(as), maxAnnotations)
		b := make([]*github.CheckRunAnnotation, 0, n)
		for _, a := range as[:n] {
			b = append(b, annotation(a))
		}
		out = append(out, b)
		as = as[n:]
	}
	return out
}

func annotation(a Annotation) *github.CheckRunAnnotation {
	end := max(a.EndLine, a.StartLine)
	ga := &github.CheckRunAnnotation{
		Path: &a.Path, StartLine: github.Int(a.StartLine), EndLine: github.Int(end),
		AnnotationLevel: &a.Level, Message: &a.Message, Title: optional(a.Title),
	}
	if end == a.StartLine && a.StartColumn > 0 {
		ga.StartColumn = github.Int(a.StartColumn)
		ga.EndColumn = github.Int(max(a.EndColumn, a.StartColumn))
	}
	return ga
}

// limit cuts s to GitHub's output limit, on a character boundary, with a
// note saying so.
func limit(s string) string {
	if len(s) <= maxOutputLen {
		return s
	}
	cut := maxOutputLen - len(truncatedNote)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncatedNote
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
