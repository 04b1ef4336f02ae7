package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/trailer"
)

// recordTitle is a record's first line.
func recordTitle(ev trailer.Event) string {
	return fmt.Sprintf("jit: %s %s", ev.Kind, strings.Join(ev.Grants, ", "))
}

// recordBody says in words what the signed trailers say.
func recordBody(ev trailer.Event) string {
	ids := strings.Join(ev.Grants, ", ")
	switch ev.Kind {
	case trailer.Activated:
		return fmt.Sprintf("Access %s is live until %s.", ids, ev.ExpiresAt.UTC().Format(trailer.TimeLayout))
	case trailer.ActivationFailed:
		return fmt.Sprintf("Applying %s failed; jit retries with backoff.", ids)
	case trailer.Revoked:
		return fmt.Sprintf("The resources of %s are destroyed.", ids)
	case trailer.RevokeFailed:
		return fmt.Sprintf("Destroying %s failed; jit retries with backoff until it succeeds.", ids)
	}
	return string(ev.Kind) + " " + ids
}

func failureComment(kind trailer.EventKind, id, msg string, next time.Time) string {
	return explain.Failure(kind == trailer.RevokeFailed, id, msg, next)
}

// expiry is the expiry pull request of an expired grant, whose merge
// carries the signed expire event for the head GitHub merges.
func (e *Engine) expiry(g desired.Grant) ExpiryRequest {
	id := g.Request.ID
	now := e.cfg.Now()
	body := explain.Expiry(id, g.Request.Requester, g.PullRequest, g.ExpiresAt, now)
	return ExpiryRequest{
		Grant: id, Path: g.Request.File,
		Title: explain.ExpiryTitle(id), Body: body,
		Message: func(head string) (string, string, error) {
			ts, err := trailer.Event{Kind: trailer.Expire, Grants: []string{id}, Reason: trailer.ReasonExpired, Head: head}.Trailers()
			if err != nil {
				return "", "", err
			}
			signed, err := trailer.Sign(ts, e.cfg.Signer)
			if err != nil {
				return "", "", fmt.Errorf("signing the expiry: %w", err)
			}
			text := fmt.Sprintf("%s expired at %s.", id, g.ExpiresAt.UTC().Format(trailer.TimeLayout))
			return "Expire " + id, text + "\n\n" + trailer.Format(signed), nil
		},
	}
}

// prIndex maps each verified grant of a pass to its pull request.
type prIndex struct {
	mu     sync.Mutex
	grants map[string]desired.Grant
}

func (p *prIndex) set(st desired.State) {
	m := make(map[string]desired.Grant, len(st.Grants))
	for _, g := range st.Grants {
		m[g.Request.ID] = g
	}
	p.mu.Lock()
	p.grants = m
	p.mu.Unlock()
}

func (p *prIndex) get(id string) (desired.Grant, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.grants[id]
	return g, ok
}

// commentSink delivers credentials as a comment on the grant's pull request.
type commentSink struct {
	gh  GitHub
	prs *prIndex
}

func (s *commentSink) Deliver(ctx context.Context, grantID string, ciphertext []byte) error {
	g, ok := s.prs.get(grantID)
	if !ok || g.PullRequest <= 0 {
		return fmt.Errorf("grant %s has no pull request to deliver its credentials to", grantID)
	}
	return s.gh.Comment(ctx, g.PullRequest, explain.Credentials(grantID, g.Request.Requester, g.ExpiresAt, string(ciphertext)))
}

// keySource finds requesters' SSH keys on GitHub.
type keySource struct{ gh GitHub }

func (k keySource) AuthorizedKeys(ctx context.Context, login string) ([]string, error) {
	return k.gh.AuthorizedKeys(ctx, login)
}
