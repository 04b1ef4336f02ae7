package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/trailer"
)

// record is what the merge commit of an approved pull request says: its
// title, a short body for people, and the signed Jit-* trailers that the
// desired-state reader and jit audit trust.
type record struct {
	title      string
	body       string
	trailers   []trailer.Trailer
	breakGlass bool
}

// newRecord writes the decision for an approved assessment. A pull request
// that adds or edits grants gets a trailer.Decision (expiry counted from
// now, which must be no later than the merge); one that deletes grants gets
// an expire event naming who revoked them.
func newRecord(as *Assessment, now time.Time) (record, error) {
	if as.Decision.Outcome != grant.Approved {
		return record{}, errors.New("the pull request is not approved")
	}
	pr := as.PR
	r := record{title: fmt.Sprintf("Merge pull request #%d from %s", pr.Number, pr.HeadRef)}
	var ids []string
	deletions := 0
	for _, g := range as.Report.Change.Grants {
		ids = append(ids, g.ID)
		if g.Kind == grant.Deleted {
			deletions++
		}
	}
	if len(ids) == 0 {
		return record{}, errors.New("the pull request changes no grant")
	}
	if deletions == len(ids) {
		ev := trailer.Event{Kind: trailer.Expire, Grants: ids, Reason: trailer.ReasonRevokedBy(pr.Author), Head: pr.HeadSHA}
		ts, err := ev.Trailers()
		if err != nil {
			return record{}, err
		}
		r.trailers = ts
		r.body = fmt.Sprintf("Revoke %s early, by %s.", strings.Join(ids, ", "), pr.Author)
		return r, nil
	}
	if deletions > 0 {
		return record{}, errors.New("the pull request both adds and deletes grants")
	}
	d := trailer.Decision{Grants: ids, PullRequest: pr.Number, Head: pr.HeadSHA, ApprovedBy: as.Decision.ApprovedBy()}
	var duration int64 = -1
	for _, s := range as.Report.Grants {
		if duration >= 0 && s.DurationSeconds != duration {
			return record{}, errors.New("the grants ask for different durations")
		}
		duration = s.DurationSeconds
		if !slices.ContainsFunc(d.RequestedBy, func(l string) bool { return grant.SameLogin(l, s.Requester) }) {
			d.RequestedBy = append(d.RequestedBy, s.Requester)
		}
		for _, p := range s.Policies {
			if !slices.Contains(d.Policies, p) {
				d.Policies = append(d.Policies, p)
			}
		}
		d.BreakGlass = d.BreakGlass || s.BreakGlass
	}
	slices.Sort(d.Policies)
	for _, e := range as.Decision.EligibleVia() {
		d.EligibleVia = append(d.EligibleVia, trailer.Via{Login: e.Login, Owner: e.Owner})
	}
	d.Duration = time.Duration(duration) * time.Second
	d.ExpiresAt = now.UTC().Truncate(time.Second).Add(d.Duration)
	ts, err := d.Trailers()
	if err != nil {
		return record{}, err
	}
	r.trailers, r.breakGlass = ts, d.BreakGlass
	how := "approved by " + strings.Join(d.ApprovedBy, ", ")
	if d.BreakGlass {
		how = "break-glass: merged without prior approval, to be reviewed"
	}
	r.body = fmt.Sprintf("Grant %s to %s for %s (until %s), %s.", strings.Join(ids, ", "), strings.Join(d.RequestedBy, ", "),
		grant.FormatDuration(d.Duration), d.ExpiresAt.Format(trailer.TimeLayout), how)
	return r, nil
}

// message is the merge commit's message after its title: the body and the
// signed trailer block, last.
func (r record) message(signer ssh.Signer) (string, error) {
	signed, err := trailer.Sign(r.trailers, signer)
	if err != nil {
		return "", fmt.Errorf("signing the decision: %w", err)
	}
	return r.body + "\n\n" + trailer.Format(signed), nil
}
