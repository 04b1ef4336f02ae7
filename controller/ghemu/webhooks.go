package ghemu

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jitops/jit/controller/ghemu/hook"
)

// Delivery is one webhook delivery attempt as recorded by the emulator.
type Delivery = hook.Delivery

// dispatcher is what the emulator needs from the webhook sender.
type dispatcher interface {
	Enqueue(url, event string, payload []byte) string
	Wait(ctx context.Context) error
	Deliveries() []hook.Delivery
	Redeliver(ctx context.Context, id int64) (hook.Delivery, error)
	Close()
}

func newDispatcher(s *Server) dispatcher {
	var target int64
	if s.st.app != nil {
		target = s.st.app.id
	}
	var secret []byte
	if s.st.webhook.Secret != "" {
		secret = []byte(s.st.webhook.Secret)
	}
	return hook.NewDispatcher(hook.Config{
		Secret: secret, Client: s.cfg.WebhookClient, Logger: s.log, HookID: s.st.webhook.HookID,
		TargetType: "integration", TargetID: target, Now: s.now,
	})
}

// Deliveries returns the webhook delivery log, oldest first. Deliveries
// still queued are not in it yet; call WaitDeliveries first.
func (s *Server) Deliveries() []Delivery { return s.hooks.Deliveries() }

// WaitDeliveries returns once every webhook queued so far has been attempted.
func (s *Server) WaitDeliveries(ctx context.Context) error { return s.hooks.Wait(ctx) }

// Redeliver sends delivery id again with the same X-GitHub-Delivery GUID,
// as GitHub's redeliver does, and returns the new attempt.
func (s *Server) Redeliver(ctx context.Context, id int64) (Delivery, error) {
	return s.hooks.Redeliver(ctx, id)
}

// WebhookSecret is the secret deliveries are signed with.
func (s *Server) WebhookSecret() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.webhook.Secret
}

// SetWebhookURL changes where webhooks go ("" stops deliveries).
func (s *Server) SetWebhookURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.webhook.URL = u
}

// deliverFor queues a repository event if the App would receive it: the
// repository is in its installation and it subscribes to the event. Without
// an App every event goes to the webhook. The caller holds s.mu.
func (s *Server) deliverFor(rp *repo, event string, payload obj) {
	if a := s.st.app; a != nil {
		if !a.installed(rp) {
			return
		}
		subscribed := false
		for _, e := range a.events {
			subscribed = subscribed || e == event
		}
		if !subscribed {
			return
		}
	}
	s.deliver(event, payload)
}

// deliver queues one event; the caller holds s.mu.
func (s *Server) deliver(event string, payload obj) {
	if s.st.webhook.URL == "" {
		return
	}
	b, err := json.Marshal(payload)
	if err != nil {
		s.log.Error("encoding webhook payload", "event", event, logKeyErr, err)
		return
	}
	s.hooks.Enqueue(s.st.webhook.URL, event, b)
}

// envelope adds the fields GitHub puts on every repository event:
// repository, sender, organization and installation.
func (s *Server) envelope(rp *repo, id identity, action string) obj {
	o := obj{}
	if action != "" {
		o["action"] = action
	}
	if rp != nil {
		o["repository"] = s.repoJSON(rp)
		if rp.owner.typ == "Organization" {
			o["organization"] = s.orgJSON(rp.owner)
		}
	}
	if id.acct != nil {
		o["sender"] = s.userJSON(id.acct)
	} else if rp != nil {
		o["sender"] = s.userJSON(rp.owner)
	}
	if a := s.st.app; a != nil && (rp == nil || a.installed(rp)) {
		o["installation"] = obj{"id": a.installationID, "node_id": nodeID("Installation", a.installationID)}
	}
	return o
}

// emitPullRequest sends a pull_request event; the caller holds s.mu.
func (s *Server) emitPullRequest(_ context.Context, rp *repo, id identity, p *pull, action string, extra obj) {
	o := s.envelope(rp, id, action)
	o["number"] = p.number
	o["pull_request"] = s.pullJSON(rp, p)
	for k, v := range extra {
		o[k] = v
	}
	s.deliverFor(rp, "pull_request", o)
}

// emitReview sends a pull_request_review event; the caller holds s.mu.
func (s *Server) emitReview(_ context.Context, rp *repo, id identity, p *pull, rv *review, action string) {
	o := s.envelope(rp, id, action)
	o["review"] = s.reviewJSON(rp, p, rv, true)
	o["pull_request"] = s.pullSimpleJSON(rp, p)
	s.deliverFor(rp, "pull_request_review", o)
}

// emitCheckRun sends a check_run event; the caller holds s.mu.
func (s *Server) emitCheckRun(_ context.Context, rp *repo, id identity, cr *checkRun, action string) {
	o := s.envelope(rp, id, action)
	o["check_run"] = s.checkRunJSON(rp, cr)
	s.deliverFor(rp, "check_run", o)
}

// emitIssueComment sends an issue_comment event; the caller holds s.mu.
// extra adds top-level fields (edited carries "changes").
func (s *Server) emitIssueComment(_ context.Context, rp *repo, id identity, is *issue, cm *comment, action string, extra obj) {
	o := s.envelope(rp, id, action)
	o["comment"] = s.commentJSON(rp, is.number, cm)
	o["issue"] = s.issueJSON(rp, is)
	for k, v := range extra {
		o[k] = v
	}
	s.deliverFor(rp, "issue_comment", o)
}

// issueJSON renders a pull request as the issue it also is.
func (s *Server) issueJSON(rp *repo, is *issue) obj {
	p := is.pr
	u := s.api() + "/repos/" + rp.fullName() + "/issues/" + strconv.Itoa(is.number)
	html := s.URL + "/" + rp.fullName() + "/pull/" + strconv.Itoa(is.number)
	return obj{
		"url": u, "repository_url": s.api() + "/repos/" + rp.fullName(), "labels_url": u + "/labels{/name}",
		"comments_url": u + "/comments", "events_url": u + "/events", "html_url": html,
		"id": is.id, "node_id": nodeID("PullRequest", p.id), "number": is.number, "title": p.title,
		"user": s.userJSON(p.user), "labels": s.labelsJSON(rp, is), "state": p.state, "locked": false,
		"assignee": nil, "assignees": []obj{}, "milestone": nil, "comments": len(is.comments),
		"created_at": ts(p.created), "updated_at": ts(p.updated), "closed_at": tsPtr(p.closedAt),
		"author_association": s.association(rp, p.user), "active_lock_reason": nil, "body": strPtr(p.body),
		"reactions": obj{"url": u + "/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
			"confused": 0, "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0},
		"timeline_url": u + "/timeline", "performed_via_github_app": nil, "state_reason": nil,
		"pull_request": obj{"url": s.api() + "/repos/" + rp.fullName() + "/pulls/" + strconv.Itoa(is.number),
			"html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch", "merged_at": tsPtr(p.mergedAt)},
	}
}

// emitPush sends a push event for one moved branch and, when a branch got a
// new head, creates the App's check suite for it (check_suite requested).
// It runs git, so the caller must not hold s.mu.
func (s *Server) emitPush(ctx context.Context, rp *repo, id identity, c refChange, forced bool) {
	s.emitPushEvent(ctx, rp, id, c, forced)
	if branch, ok := strings.CutPrefix(c.ref, "refs/heads/"); ok && c.after != zeroSHA {
		s.checkSuitePushed(ctx, rp, id, branch, c)
	}
}

// emitPushEvent sends the push event itself; the caller must not hold s.mu.
func (s *Server) emitPushEvent(ctx context.Context, rp *repo, id identity, c refChange, forced bool) {
	s.mu.Lock()
	hasHook := s.st.webhook.URL != "" && (s.st.app == nil || s.st.app.installed(rp))
	s.mu.Unlock()
	if !hasHook {
		return
	}
	var commits []obj
	var head any
	if c.after != zeroSHA {
		exclude := []string{c.before}
		if c.before == zeroSHA {
			// A new branch: only commits no other branch has.
			refs, _ := rp.git.refs(ctx)
			for r, sha := range refs {
				if r != c.ref && strings.HasPrefix(r, "refs/heads/") {
					exclude = append(exclude, sha)
				}
			}
		}
		shas, _ := rp.git.revList(ctx, c.after, exclude, 20)
		for i := len(shas) - 1; i >= 0; i-- {
			if pc := s.pushCommit(ctx, rp, shas[i]); pc != nil {
				commits = append(commits, pc)
			}
		}
		if pc := s.pushCommit(ctx, rp, c.after); pc != nil {
			head = pc
		}
	}
	if commits == nil {
		commits = []obj{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.envelope(rp, id, "")
	who := id.acct
	if who == nil {
		who = rp.owner
	}
	o["ref"] = c.ref
	o["before"] = c.before
	o["after"] = c.after
	o["created"] = c.before == zeroSHA
	o["deleted"] = c.after == zeroSHA
	o["forced"] = forced
	o["base_ref"] = nil
	o["compare"] = s.URL + "/" + rp.fullName() + "/compare/" + c.before[:12] + "..." + c.after[:12]
	o["commits"] = commits
	o["head_commit"] = head
	o["pusher"] = obj{"name": who.login, "email": who.commitEmail()}
	s.deliverFor(rp, "push", o)
}

// pushCommit renders one commit as push payloads list it.
func (s *Server) pushCommit(ctx context.Context, rp *repo, sha string) obj {
	ci, err := rp.git.readCommit(ctx, sha)
	if err != nil {
		return nil
	}
	from := emptyTree
	if len(ci.parents) > 0 {
		from = ci.parents[0]
	}
	added, removed, modified := []string{}, []string{}, []string{}
	if files, err := rp.git.diff(ctx, from, sha); err == nil {
		for _, f := range files {
			switch f.status {
			case "added":
				added = append(added, f.path)
			case "removed":
				removed = append(removed, f.path)
			default:
				modified = append(modified, f.path)
			}
		}
	}
	person := func(sg signature) obj {
		o := obj{"name": sg.name, "email": sg.email, "date": sg.when.Format(time.RFC3339)}
		s.mu.Lock()
		if u, ok := s.accountJSONByEmail(sg.email).(obj); ok && u["login"] != nil {
			o["username"] = u["login"]
		}
		s.mu.Unlock()
		return o
	}
	return obj{
		"id": sha, "tree_id": ci.tree, "distinct": true, "message": ci.message,
		"timestamp": ci.committer.when.Format(time.RFC3339),
		"url":       s.URL + "/" + rp.fullName() + "/commit/" + sha,
		"author":    person(ci.author), "committer": person(ci.committer),
		"added": added, "removed": removed, "modified": modified,
	}
}

// Ping sends GitHub's ping event to the webhook URL, as GitHub does when a
// hook is created.
func (s *Server) Ping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := ts(s.now())
	hk := obj{
		"type": "App", "id": s.st.webhook.HookID, "name": "web", "active": true, "events": []string{"*"},
		"config":     obj{"content_type": "json", "insecure_ssl": "0", "url": s.st.webhook.URL},
		"updated_at": now, "created_at": now,
		"deliveries_url": s.api() + "/app/hook/deliveries",
	}
	o := obj{"zen": "Keep it logically awesome.", "hook_id": s.st.webhook.HookID, "hook": hk}
	if a := s.st.app; a != nil {
		hk["app_id"] = a.id
		o["sender"] = s.userJSON(a.owner)
	}
	s.deliver("ping", o)
}

// SendInstallationCreated sends the installation.created event GitHub sends
// when the App is installed. It does nothing without an App.
func (s *Server) SendInstallationCreated() {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.app
	if a == nil {
		return
	}
	repos := []obj{}
	for _, rp := range s.st.repoList {
		if a.installed(rp) {
			repos = append(repos, obj{"id": rp.id, "node_id": nodeID("Repository", rp.id), "name": rp.name,
				"full_name": rp.fullName(), "private": rp.private})
		}
	}
	var sender *account
	if len(s.st.users) > 0 {
		sender = s.st.users[0]
	} else {
		sender = a.owner
	}
	s.deliver("installation", obj{
		"action": "created", "installation": s.installationJSON(), "repositories": repos,
		"requester": nil, "sender": s.userJSON(sender),
	})
}
