package app_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
)

// BenchmarkWebhookToValidate measures, through the emulator, the time from
// a pull request event to jit/validate posted on its head, in two shapes:
//
//   - opened: the branch was pushed before the pull request was opened (as
//     people do), so the push already brought the head into the App's
//     mirror; the clock runs from the pull request's creation;
//   - synchronize: a push to an open pull request's branch; the clock runs
//     from the push, so it includes the git fetch of the new head.
//
// Each reports the median and 90th percentile in milliseconds, measured
// from the API call that caused the event (the emulator's own webhook
// delivery included).
func BenchmarkWebhookToValidate(b *testing.B) {
	b.Run("opened", func(b *testing.B) {
		r := newBenchRig(b)
		var samples []time.Duration
		for i := 0; b.Loop(); i++ {
			branch := fmt.Sprintf("req-%d", i)
			sha, err := r.srv.Commit(context.Background(), repo, ghemuChange(branch, "alice", "request", map[string]string{
				fmt.Sprintf("access/prod/orders/alice-%d.yaml", i): aliceGrant}))
			if err != nil {
				b.Fatal(err)
			}
			r.settle()
			start := time.Now()
			if _, _, err := r.client("alice").PullRequests.Create(context.Background(), org, repo, &github.NewPullRequest{
				Title: github.String(branch), Head: github.String(branch), Base: github.String("main")}); err != nil {
				b.Fatal(err)
			}
			samples = append(samples, r.waitValidate(b, sha, start))
		}
		reportLatency(b, samples)
	})
	b.Run("synchronize", func(b *testing.B) {
		r := newBenchRig(b)
		r.openPR("alice", "req", map[string]string{"access/prod/orders/alice-1.yaml": aliceGrant})
		r.settle()
		var samples []time.Duration
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			sha, err := r.srv.Commit(context.Background(), repo, ghemuChange("req", "alice", "more", map[string]string{
				"access/prod/orders/alice-1.yaml": strings.Replace(aliceGrant, "Investigate", fmt.Sprintf("Investigate (%d)", i), 1)}))
			if err != nil {
				b.Fatal(err)
			}
			samples = append(samples, r.waitValidate(b, sha, start))
			r.settle()
		}
		reportLatency(b, samples)
	})
}

// waitValidate waits for jit/validate on sha and returns the time since start.
func (r *rig) waitValidate(b *testing.B, sha string, start time.Time) time.Duration {
	for !slices.ContainsFunc(r.srv.CheckRuns(repo, sha), func(c ghemu.CheckRun) bool { return c.Name == validateCheck }) {
		if time.Since(start) > 20*time.Second {
			b.Fatal("jit/validate never came")
		}
		time.Sleep(200 * time.Microsecond)
	}
	return time.Since(start)
}

func reportLatency(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(samples[len(samples)*9/10].Microseconds())/1000, "p90-ms")
}

// BenchmarkAPICallsPerRequest counts the GitHub API calls (the emulator's
// request log, git excluded) of one request's whole pull-request side:
// opened, approved, merged, in a running App (its installation token
// already issued).
func BenchmarkAPICallsPerRequest(b *testing.B) {
	r := newBenchRig(b)
	var calls []int
	var routes map[string]int
	for i := 0; b.Loop(); i++ {
		r.srv.ResetRequests()
		n := r.openPR("alice", fmt.Sprintf("req-%d", i), map[string]string{fmt.Sprintf("access/prod/orders/alice-%d.yaml", i): aliceGrant})
		r.settle()
		r.approve("bob", n)
		r.settle()
		if !r.pr(n).Merged {
			b.Fatalf("#%d not merged", n)
		}
		routes = map[string]int{}
		count := 0
		for _, q := range r.srv.APIRequests() {
			if q.Login == "alice" || q.Login == "bob" {
				continue // the test's own calls as the requester and approver
			}
			routes[q.Route]++
			count++
		}
		calls = append(calls, count)
	}
	slices.Sort(calls)
	b.ReportMetric(float64(calls[len(calls)/2]), "calls/request")
	var lines []string
	for route, n := range routes {
		lines = append(lines, fmt.Sprintf("%3d %s", n, route))
	}
	slices.Sort(lines)
	b.Logf("App calls of the last request:\n%s", strings.Join(lines, "\n"))
}

// BenchmarkGovernanceReevaluation opens 200 grant pull requests, then
// changes CODEOWNERS on the default branch and measures the time until
// every pull request's comment names the new owners.
func BenchmarkGovernanceReevaluation(b *testing.B) {
	const open = 200
	r := newBenchRig(b)
	for i := range open {
		r.openPR("alice", fmt.Sprintf("req-%d", i), map[string]string{fmt.Sprintf("access/staging/alice-%d.yaml", i): aliceGrant})
	}
	r.settle()
	owners := []string{"@acme/security", "@acme/dba"}
	for i := 0; b.Loop(); i++ {
		owner, previous := owners[i%2], owners[(i+1)%2]
		start := time.Now()
		r.srv.Commit(context.Background(), repo, ghemuChange("main", "", "staging owners", map[string]string{
			".github/CODEOWNERS": strings.Replace(codeowners, "/access/staging/  @acme/dba @acme/developers", "/access/staging/  "+owner, 1)}))
		for n := 1; n <= open; n++ {
			for {
				cs := r.comments(n)
				if len(cs) == 1 && strings.Contains(cs[0].Body, strings.TrimPrefix(owner, "@")) && !strings.Contains(cs[0].Body, "developers") && !strings.Contains(cs[0].Body, strings.TrimPrefix(previous, "@")) {
					break
				}
				if time.Since(start) > 2*time.Minute {
					b.Fatalf("#%d not re-evaluated", n)
				}
				time.Sleep(time.Millisecond)
			}
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/200-prs")
		r.settle()
	}
}
