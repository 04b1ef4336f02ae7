package provision_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

func TestApplyListDestroy(t *testing.T) {
	e := newEnv(t)
	m := e.manager()
	ctx := ctxFor(t)
	targets := t.TempDir()
	req := dataGrant("prod/db/alice-inc-1234", "hello; $(id) `id` \"q\" ${x} %{y}", targets)

	got, err := m.Apply(ctx, req, expiry)
	if err != nil {
		t.Fatal(err)
	}
	want := provision.Applied{Grant: req.ID, Workspace: render.WorkspaceName(req.ID), Resources: []string{"terraform_data.grant", "terraform_data.second"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Apply (-want +got):\n%s", d)
	}
	b, err := os.ReadFile(markerFile(targets, req.ID))
	if err != nil || string(b) != req.Scope["value"] {
		t.Errorf("target holds %q (%v), want the scope value verbatim", b, err)
	}

	ws, err := m.Workspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantWS := []provision.Workspace{{Name: render.WorkspaceName(req.ID), Grant: req.ID, Template: "data", ExpiresAt: expiry, Complete: true}}
	if d := cmp.Diff(wantWS, ws); d != "" {
		t.Errorf("Workspaces (-want +got):\n%s", d)
	}

	// A second apply changes nothing.
	again, err := m.Apply(ctx, req, expiry)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Resources) != 0 {
		t.Errorf("second apply changed %v", again.Resources)
	}

	// A fresh manager (a later run) reuses the initialised directories and
	// destroys from the state alone.
	d, err := e.manager().Destroy(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantD := provision.Destroyed{Grant: req.ID, Workspace: render.WorkspaceName(req.ID), Existed: true, Resources: []string{"terraform_data.grant", "terraform_data.second"}}
	if diff := cmp.Diff(wantD, d); diff != "" {
		t.Errorf("Destroy (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(markerFile(targets, req.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("target still holds the grant after destroy: %v", err)
	}
	ws, err = m.Workspaces(ctx)
	if err != nil || len(ws) != 0 {
		t.Errorf("Workspaces after destroy = %v, %v; want none", ws, err)
	}
	// Destroy is idempotent.
	d, err = m.Destroy(ctx, req.ID)
	if err != nil || d.Existed {
		t.Errorf("second Destroy = %+v, %v; want nothing to do", d, err)
	}
	// And the grant can be applied again afterwards (e.g. after a crash
	// between destroy and the record of it).
	if _, err := m.Apply(ctx, req, expiry); err != nil {
		t.Fatalf("apply after destroy: %v", err)
	}
}

func TestApplyConcurrentLocal(t *testing.T) {
	e := newEnv(t)
	m := e.manager()
	ctx := ctxFor(t)
	targets := t.TempDir()
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = m.Apply(ctx, dataGrant(fmt.Sprintf("dev/g%02d", i), fmt.Sprint(i), targets), expiry)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ws, err := m.Workspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != n {
		t.Fatalf("%d workspaces, want %d", len(ws), n)
	}
	for _, w := range ws {
		if !w.Complete {
			t.Errorf("workspace %s incomplete", w.Name)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	e := newEnv(t)
	m := e.manager()
	ctx := ctxFor(t)
	tests := map[string]struct {
		template string
		scope    map[string]any
		want     []string
	}{
		"syntax error": {
			template: "broken",
			scope:    map[string]any{"value": "x"},
			want:     []string{"grant dev/bad: template broken: templates/broken/main.tf:"},
		},
		"missing template": {
			template: "nope",
			scope:    map[string]any{"value": "x"},
			want:     []string{"grant dev/bad: template nope: templates/nope does not exist in"},
		},
		"path in template name": {
			template: "../data",
			want:     []string{"grant dev/bad: template ../data: not a template name"},
		},
		"scope sets a reserved input": {
			template: "data",
			scope:    map[string]any{"value": "x", "grant_id": "other"},
			want:     []string{`grant dev/bad: the scope does not fit template data: access/dev/bad.yaml:1:1: template data has no input "grant_id"; its inputs are: marker_dir, sleep, value`},
		},
		"scope sets jit's own variable": {
			template: "data",
			scope:    map[string]any{"value": "x", "jit_grant": "{}"},
			want:     []string{`grant dev/bad: the scope does not fit template data: access/dev/bad.yaml:1:1: template data has no input "jit_grant"`},
		},
		"a value of the wrong type": {
			template: "data",
			scope:    map[string]any{"value": "x", "sleep": "not a number"},
			want:     []string{`grant dev/bad: the scope does not fit template data: access/dev/bad.yaml:1:1: scope.sleep: must be a number, got the string "not a number"`},
		},
		"a required input missing": {
			template: "data",
			scope:    map[string]any{},
			want:     []string{`grant dev/bad: the scope does not fit template data: access/dev/bad.yaml:1:1: template data requires input "value" (string); add it under scope:`},
		},
		"terraform rejects a value": {
			template: "terraformonly",
			scope:    map[string]any{"value": "x"},
			want:     []string{"grant dev/bad: terraform apply:", "only terraform knows"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := dataGrant("dev/bad", "", "")
			req.Template, req.Scope = tc.template, tc.scope
			_, err := m.Apply(ctx, req, expiry)
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestInterruptedApplyIsRedone(t *testing.T) {
	e := newEnv(t)
	m := e.manager(terraform.WithKillGrace(2 * time.Second))
	targets := t.TempDir()
	req := dataGrant("dev/slow", "v", targets)
	req.Scope["sleep"] = int64(30)

	ctx, cancel := context.WithCancel(ctxFor(t))
	go func() {
		// Cancel once the provisioner has started (its marker exists).
		for range 600 {
			if _, err := os.Stat(markerFile(targets, req.ID)); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := m.Apply(ctx, req, expiry)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply = %v, want a cancelled error", err)
	}
	if !strings.Contains(err.Error(), "grant dev/slow: terraform apply: was cancelled") {
		t.Errorf("error %q does not name grant and step", err)
	}
	if time.Since(start) > 25*time.Second {
		t.Errorf("cancelled apply took %v", time.Since(start))
	}

	ws, err := m.Workspaces(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Complete {
		t.Fatalf("after an interrupted apply Workspaces = %+v, want one incomplete", ws)
	}
	req.Scope["sleep"] = int64(0)
	if _, err := m.Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	ws, err = m.Workspaces(ctxFor(t))
	if err != nil || len(ws) != 1 || !ws[0].Complete {
		t.Fatalf("after re-apply Workspaces = %+v, %v; want one complete", ws, err)
	}
}

func TestApplyTimeout(t *testing.T) {
	e := newEnv(t)
	m := e.manager(terraform.WithTimeout(3*time.Second), terraform.WithKillGrace(time.Second))
	req := dataGrant("dev/timeout", "v", "")
	req.Scope["sleep"] = int64(60)
	_, err := m.Apply(ctxFor(t), req, expiry)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply = %v, want a deadline error", err)
	}
	if !strings.Contains(err.Error(), "grant dev/timeout: terraform") || !strings.Contains(err.Error(), "timed out after 3s") {
		t.Errorf("error %q does not say which grant timed out and after how long", err)
	}
}

func TestDestroyWithoutWorkspace(t *testing.T) {
	m := newEnv(t).manager()
	d, err := m.Destroy(ctxFor(t), "never/applied")
	if err != nil || d.Existed {
		t.Fatalf("Destroy = %+v, %v; want nothing to do", d, err)
	}
}

func TestTemplateScriptsStayExecutable(t *testing.T) {
	m := newEnv(t).manager()
	out := filepath.Join(t.TempDir(), "out")
	req := dataGrant("dev/script", "", "")
	req.Template, req.Scope = "script", map[string]any{"out": out}
	if _, err := m.Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "hello" {
		t.Errorf("the template's script wrote %q, %v", b, err)
	}
}
