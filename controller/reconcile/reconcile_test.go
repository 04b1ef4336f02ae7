package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/reconcile"
	"github.com/jitops/jit/controller/render"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func want(id string, expires time.Time) reconcile.Desired {
	return reconcile.Desired{Request: grant.Request{ID: id, Template: "t"}, ExpiresAt: expires}
}

func have(id string, complete bool) reconcile.Actual {
	return reconcile.Actual{Workspace: render.WorkspaceName(id), Grant: id, Complete: complete}
}

func haveUntil(id string, expires time.Time) reconcile.Actual {
	a := have(id, true)
	a.ExpiresAt = expires
	return a
}

func TestPlan(t *testing.T) {
	later, earlier := now.Add(time.Hour), now.Add(-time.Minute)
	tests := map[string]struct {
		desired []reconcile.Desired
		actual  []reconcile.Actual
		opts    reconcile.Options
		want    []reconcile.Outcome
	}{
		"nothing": {},
		"missing grant is applied": {
			desired: []reconcile.Desired{want("a", later)},
			want:    []reconcile.Outcome{{Grant: "a", Action: reconcile.Apply, Reason: reconcile.ReasonMissing}},
		},
		"complete grant is left alone": {
			desired: []reconcile.Desired{want("a", later)},
			actual:  []reconcile.Actual{have("a", true)},
		},
		"incomplete grant is applied again": {
			desired: []reconcile.Desired{want("a", later)},
			actual:  []reconcile.Actual{have("a", false)},
			want:    []reconcile.Outcome{{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Apply, Reason: reconcile.ReasonIncomplete}},
		},
		"workspace without record of a desired grant is applied again": {
			desired: []reconcile.Desired{want("a", later)},
			actual:  []reconcile.Actual{{Workspace: render.WorkspaceName("a")}},
			want:    []reconcile.Outcome{{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Apply, Reason: reconcile.ReasonIncomplete}},
		},
		"same expiry is left alone": {
			desired: []reconcile.Desired{want("a", later)},
			actual:  []reconcile.Actual{haveUntil("a", later)},
		},
		"extended grant is applied again": {
			desired: []reconcile.Desired{want("a", later.Add(time.Hour))},
			actual:  []reconcile.Actual{haveUntil("a", later)},
			want:    []reconcile.Outcome{{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Apply, Reason: reconcile.ReasonExtended}},
		},
		"expired grant is destroyed": {
			desired: []reconcile.Desired{want("a", earlier)},
			actual:  []reconcile.Actual{have("a", true)},
			want:    []reconcile.Outcome{{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Destroy, Reason: reconcile.ReasonExpired}},
		},
		"expiry exactly now is expired": {
			desired: []reconcile.Desired{want("a", now)},
			actual:  []reconcile.Actual{have("a", false)},
			want:    []reconcile.Outcome{{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Destroy, Reason: reconcile.ReasonExpired}},
		},
		"expired grant without workspace needs nothing": {
			desired: []reconcile.Desired{want("a", earlier)},
		},
		"removed grant is destroyed": {
			actual: []reconcile.Actual{have("a", true)},
			want:   []reconcile.Outcome{{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Destroy, Reason: reconcile.ReasonRemoved}},
		},
		"unrecorded workspace of no desired grant is destroyed": {
			actual: []reconcile.Actual{{Workspace: render.WorkspaceName("x")}},
			want:   []reconcile.Outcome{{Workspace: render.WorkspaceName("x"), Action: reconcile.Destroy, Reason: reconcile.ReasonUnknown}},
		},
		"an expired grant's workspace that lost its record is that grant's": {
			desired: []reconcile.Desired{want("a", earlier)},
			actual:  []reconcile.Actual{{Workspace: render.WorkspaceName("a")}},
			want:    []reconcile.Outcome{{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Destroy, Reason: reconcile.ReasonExpired}},
		},
		"mixed, ordered by grant": {
			desired: []reconcile.Desired{want("c", later), want("b", earlier), want("a", later)},
			actual:  []reconcile.Actual{have("b", true), have("a", true), have("d", true)},
			want: []reconcile.Outcome{
				{Grant: "b", Workspace: render.WorkspaceName("b"), Action: reconcile.Destroy, Reason: reconcile.ReasonExpired},
				{Grant: "c", Action: reconcile.Apply, Reason: reconcile.ReasonMissing},
				{Grant: "d", Workspace: render.WorkspaceName("d"), Action: reconcile.Destroy, Reason: reconcile.ReasonRemoved},
			},
		},
		"drift re-asserts live complete grants only": {
			desired: []reconcile.Desired{want("a", later), want("b", later), want("c", earlier)},
			actual:  []reconcile.Actual{have("a", true), have("b", false), have("c", true)},
			opts:    reconcile.Options{Drift: true},
			want: []reconcile.Outcome{
				{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Reassert, Reason: reconcile.ReasonDrift},
				{Grant: "b", Workspace: render.WorkspaceName("b"), Action: reconcile.Apply, Reason: reconcile.ReasonIncomplete},
				{Grant: "c", Workspace: render.WorkspaceName("c"), Action: reconcile.Destroy, Reason: reconcile.ReasonExpired},
			},
		},
		"without drift a live complete grant is left alone": {
			desired: []reconcile.Desired{want("a", later)},
			actual:  []reconcile.Actual{have("a", true)},
		},
		"filtered to one grant": {
			desired: []reconcile.Desired{want("a", later), want("b", later)},
			actual:  []reconcile.Actual{have("x", true), {Workspace: "jit-orphan-0000000000"}},
			opts:    reconcile.Options{Grants: []string{"b"}},
			want:    []reconcile.Outcome{{Grant: "b", Action: reconcile.Apply, Reason: reconcile.ReasonMissing}},
		},
		"apply only leaves expired grants": {
			desired: []reconcile.Desired{want("a", later), want("c", earlier)},
			actual:  []reconcile.Actual{have("c", true)},
			opts:    reconcile.Options{NoDestroy: true, Drift: true},
			want:    []reconcile.Outcome{{Grant: "a", Action: reconcile.Apply, Reason: reconcile.ReasonMissing}},
		},
		"destroy only leaves missing grants and drift": {
			desired: []reconcile.Desired{want("a", later), want("b", later)},
			actual:  []reconcile.Actual{have("b", true), have("gone", true)},
			opts:    reconcile.Options{NoApply: true, Drift: true},
			want:    []reconcile.Outcome{{Grant: "gone", Workspace: render.WorkspaceName("gone"), Action: reconcile.Destroy, Reason: reconcile.ReasonRemoved}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := reconcile.Plan(tc.desired, tc.actual, now, tc.opts)
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("Plan (-want +got):\n%s", d)
			}
		})
	}
}

// fakeSource serves a fixed list of desired grants.
type fakeSource struct {
	list []reconcile.Desired
	err  error
}

func (s *fakeSource) Desired(context.Context) ([]reconcile.Desired, error) { return s.list, s.err }

// fakeProvisioner keeps workspaces in memory like a state backend does, and
// fails the grants listed in fail (failTimes[id] times, or always when 0).
type fakeProvisioner struct {
	mu        sync.Mutex
	ws        map[string]reconcile.Actual
	fail      map[string]error
	failTimes map[string]int
	calls     []string
	listErr   error
}

func newFake() *fakeProvisioner {
	return &fakeProvisioner{ws: map[string]reconcile.Actual{}, fail: map[string]error{}, failTimes: map[string]int{}}
}

func (f *fakeProvisioner) Actual(context.Context) ([]reconcile.Actual, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []reconcile.Actual
	for _, a := range f.ws {
		out = append(out, a)
	}
	return out, nil
}

func (f *fakeProvisioner) Apply(_ context.Context, d reconcile.Desired) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := d.Request.ID
	f.calls = append(f.calls, "apply "+id)
	ws := render.WorkspaceName(id)
	if err := f.fail[id]; err != nil {
		f.ws[ws] = reconcile.Actual{Workspace: ws, Grant: id, Complete: false}
		return nil, fmt.Errorf("grant %s: terraform apply: %w", id, err)
	}
	f.ws[ws] = reconcile.Actual{Workspace: ws, Grant: id, Complete: true, ExpiresAt: d.ExpiresAt}
	return []string{"terraform_data.x"}, nil
}

func (f *fakeProvisioner) Destroy(_ context.Context, a reconcile.Actual) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "destroy "+a.Grant)
	if err := f.fail[a.Grant]; err != nil {
		if n, ok := f.failTimes[a.Grant]; ok {
			if n <= 1 {
				delete(f.fail, a.Grant)
			}
			f.failTimes[a.Grant] = n - 1
		}
		return nil, fmt.Errorf("grant %s: terraform destroy: %w", a.Grant, err)
	}
	delete(f.ws, a.Workspace)
	return []string{"terraform_data.x"}, nil
}

func (f *fakeProvisioner) Reassert(_ context.Context, d reconcile.Desired) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "reassert "+d.Request.ID)
	if err := f.fail[d.Request.ID]; err != nil {
		return nil, fmt.Errorf("grant %s: terraform apply: %w", d.Request.ID, err)
	}
	return []string{"terraform_data.x"}, nil
}

func (f *fakeProvisioner) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	sort.Strings(c)
	return c
}

func TestRunConvergesAndIsIdempotent(t *testing.T) {
	src := &fakeSource{list: []reconcile.Desired{want("a", now.Add(time.Hour)), want("b", now.Add(2*time.Hour))}}
	prov := newFake()
	r := reconcile.New(src, prov, nil)
	r.Now = func() time.Time { return now }
	ctx := context.Background()

	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := prov.takeCalls(); !cmp.Equal(got, []string{"apply a", "apply b"}) {
		t.Errorf("first pass calls %v", got)
	}
	if res.Desired != 2 || res.Actual != 0 || len(res.Outcomes) != 2 || res.Err() != nil {
		t.Errorf("first pass result %+v", res)
	}

	res, err = r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := prov.takeCalls(); len(got) != 0 || len(res.Outcomes) != 0 {
		t.Errorf("second pass did %v (%+v), want nothing", got, res.Outcomes)
	}

	// a expires, b's file is removed.
	r.Now = func() time.Time { return now.Add(90 * time.Minute) }
	src.list = src.list[:1]
	res, err = r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := []reconcile.Outcome{
		{Grant: "a", Workspace: render.WorkspaceName("a"), Action: reconcile.Destroy, Reason: reconcile.ReasonExpired, Resources: []string{"terraform_data.x"}},
		{Grant: "b", Workspace: render.WorkspaceName("b"), Action: reconcile.Destroy, Reason: reconcile.ReasonRemoved, Resources: []string{"terraform_data.x"}},
	}
	if d := cmp.Diff(wantOut, res.Outcomes); d != "" {
		t.Errorf("third pass (-want +got):\n%s", d)
	}
	if res, _ := r.Run(ctx); len(res.Outcomes) != 0 {
		t.Errorf("fourth pass did %+v", res.Outcomes)
	}
}

func TestRunFailureOfOneGrantDoesNotStopOthers(t *testing.T) {
	var desired []reconcile.Desired
	for i := range 10 {
		desired = append(desired, want(fmt.Sprintf("g%d", i), now.Add(time.Hour)))
	}
	prov := newFake()
	prov.fail["g3"] = errors.New("state backend down")
	r := reconcile.New(&fakeSource{list: desired}, prov, nil)
	r.Now = func() time.Time { return now }

	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	failed := res.Failed()
	if len(failed) != 1 || failed[0].Grant != "g3" {
		t.Fatalf("failed = %+v, want only g3", failed)
	}
	if msg := res.Err().Error(); msg != "grant g3: terraform apply: state backend down" {
		t.Errorf("Err() = %q", msg)
	}
	if n := len(prov.takeCalls()); n != 10 {
		t.Errorf("%d applies, want 10", n)
	}

	// The next pass retries only the failed grant, and succeeds once the
	// cause is gone.
	delete(prov.fail, "g3")
	res, err = r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := prov.takeCalls(); !cmp.Equal(got, []string{"apply g3"}) || res.Err() != nil {
		t.Errorf("second pass calls %v, err %v", got, res.Err())
	}
}

func TestRunGatherErrors(t *testing.T) {
	prov := newFake()
	prov.listErr = errors.New("connection refused")
	_, err := reconcile.New(&fakeSource{}, prov, nil).Run(context.Background())
	if err == nil || err.Error() != "reading the grants that exist: connection refused" {
		t.Errorf("err = %v", err)
	}
	_, err = reconcile.New(&fakeSource{err: errors.New("bad repo")}, newFake(), nil).Run(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "reading the desired grants: bad repo") {
		t.Errorf("err = %v", err)
	}
}

func TestRunRetriesFailingDestroyWithinThePass(t *testing.T) {
	prov := newFake()
	prov.ws[render.WorkspaceName("gone")] = have("gone", true)
	prov.ws[render.WorkspaceName("stuck")] = have("stuck", true)
	prov.fail["gone"], prov.failTimes["gone"] = errors.New("connection reset"), 2
	prov.fail["stuck"] = errors.New("target down")
	r := reconcile.New(&fakeSource{}, prov, nil)
	r.Now = func() time.Time { return now }
	r.DestroyBackoff = time.Millisecond
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"destroy gone", "destroy gone", "destroy gone", "destroy stuck", "destroy stuck", "destroy stuck"}
	if got := prov.takeCalls(); !cmp.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	failed := res.Failed()
	if len(failed) != 1 || failed[0].Grant != "stuck" || failed[0].Err.Error() != "grant stuck: terraform destroy: target down" {
		t.Errorf("failed = %+v, want only stuck, after 3 tries", failed)
	}
}

func TestRunWithDriftReassertsAndFiltered(t *testing.T) {
	src := &fakeSource{list: []reconcile.Desired{want("a", now.Add(time.Hour)), want("b", now.Add(time.Hour))}}
	prov := newFake()
	r := reconcile.New(src, prov, nil)
	r.Now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	prov.takeCalls()
	res, err := r.RunWith(ctx, reconcile.Options{Drift: true, Grants: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := prov.takeCalls(), []string{"reassert b"}; !cmp.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if len(res.Outcomes) != 1 || res.Outcomes[0].Action != reconcile.Reassert || res.Outcomes[0].Err != nil {
		t.Errorf("outcomes = %+v", res.Outcomes)
	}
}
