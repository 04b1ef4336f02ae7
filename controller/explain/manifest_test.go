package explain

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestManifest pins the App manifest's fields, permissions and events, so
// that widening what the App may do is a deliberate change of this test.
func TestManifest(t *testing.T) {
	data, err := os.ReadFile("../../app-manifest.json")
	if err != nil {
		t.Fatalf("reading the App manifest: %v", err)
	}
	var m struct {
		Name           string `json:"name"`
		Description    string `json:"description"`
		URL            string `json:"url"`
		HookAttributes struct {
			URL    string `json:"url"`
			Active bool   `json:"active"`
		} `json:"hook_attributes"`
		RedirectURL        string            `json:"redirect_url"`
		Public             bool              `json:"public"`
		DefaultPermissions map[string]string `json:"default_permissions"`
		DefaultEvents      []string          `json:"default_events"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("app-manifest.json is not valid JSON with only the known fields: %v", err)
	}
	if dec.More() {
		t.Fatalf("app-manifest.json holds more than one JSON value")
	}
	if m.Name != "jit" || m.Public || m.URL == "" || m.HookAttributes.URL == "" || !m.HookAttributes.Active || m.RedirectURL == "" {
		t.Errorf("manifest: name %q, public %v, url %q, hook url %q (active %v), redirect url %q; want jit, private, every URL set and the hook active",
			m.Name, m.Public, m.URL, m.HookAttributes.URL, m.HookAttributes.Active, m.RedirectURL)
	}
	wantPerms := map[string]string{"checks": "write", "contents": "write", "pull_requests": "write", "statuses": "write", "issues": "write", "members": "read", "metadata": "read"}
	if diff := cmp.Diff(wantPerms, m.DefaultPermissions); diff != "" {
		t.Errorf("default_permissions (-want +got):\n%s", diff)
	}
	wantEvents := []string{"check_run", "check_suite", "pull_request", "pull_request_review", "push"}
	if diff := cmp.Diff(wantEvents, m.DefaultEvents); diff != "" {
		t.Errorf("default_events (-want +got):\n%s", diff)
	}
}
