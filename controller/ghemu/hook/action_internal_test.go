package hook

import (
	"encoding/json"
	"testing"
)

// FuzzAction checks action against a plain decode of the whole payload:
// the top-level "action" when it is a string, otherwise "".
func FuzzAction(f *testing.F) {
	for _, s := range []string{
		`{"action":"opened","number":1}`,
		`{"ref":"refs/heads/main"}`,
		`{"action":null}`,
		`{"action":["x"]}`,
		`[]`,
		`{"action":"a","action":"b"}`,
		`{"pull_request":{"action":"x"}}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		want := ""
		var m map[string]any
		if json.Unmarshal(payload, &m) == nil {
			want, _ = m["action"].(string)
		}
		if got := action(payload); got != want {
			t.Errorf("action(%q) = %q, want %q", payload, got, want)
		}
	})
}
