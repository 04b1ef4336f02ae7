package terraform_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/terraform"
)

// stateV4 is a state in the shape terraform 1.5 writes: outputs (one
// sensitive), a managed resource with two instances of which one is
// tainted, a resource in a module, and a data source.
const stateV4 = `{
  "version": 4,
  "terraform_version": "1.5.7",
  "serial": 3,
  "lineage": "0b6c1f0e-8c1e-4f0e-9c8a-5b0f3e1d2c4a",
  "outputs": {
    "jit_complete": {"value": ["terraform_data.role"], "type": ["tuple", [["string"]]]},
    "jit_delivered": {"value": "SCRAM-SHA-256$4096:secret", "type": "string", "sensitive": true}
  },
  "resources": [
    {"mode": "managed", "type": "terraform_data", "name": "role", "provider": "provider[\"terraform.io/builtin/terraform\"]",
     "instances": [{"schema_version": 0, "attributes": {"id": "a"}}]},
    {"mode": "managed", "type": "terraform_data", "name": "many", "provider": "provider[\"terraform.io/builtin/terraform\"]",
     "instances": [{"index_key": 0, "attributes": {}}, {"index_key": 1, "status": "tainted", "attributes": {}}]},
    {"module": "module.db", "mode": "managed", "type": "terraform_data", "name": "grant", "provider": "provider[\"terraform.io/builtin/terraform\"]",
     "instances": []},
    {"mode": "data", "type": "external", "name": "lookup", "provider": "provider[\"registry.terraform.io/hashicorp/external\"]",
     "instances": [{"attributes": {}}]}
  ],
  "check_results": null
}`

func TestParseState(t *testing.T) {
	empty := terraform.State{Outputs: map[string]json.RawMessage{}}
	tests := map[string]struct {
		raw  string
		want terraform.State
	}{
		"empty input is no state":   {raw: "", want: empty},
		"blank input is no state":   {raw: " \n\t", want: empty},
		"a fresh workspace's state": {raw: `{"version": 4, "terraform_version": "1.5.7", "serial": 1, "lineage": "x", "outputs": {}, "resources": [], "check_results": null}` + "\n", want: empty},
		"outputs and managed resources": {
			raw: stateV4,
			want: terraform.State{
				Outputs: map[string]json.RawMessage{
					"jit_complete":  json.RawMessage(`["terraform_data.role"]`),
					"jit_delivered": json.RawMessage(`"SCRAM-SHA-256$4096:secret"`),
				},
				Resources: []terraform.Resource{
					{Address: "terraform_data.role"},
					{Address: "terraform_data.many", Tainted: true},
					{Address: "module.db.terraform_data.grant"},
				},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := terraform.ParseState([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseState (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseStateRejects(t *testing.T) {
	tests := map[string]struct {
		raw  string
		want string
	}{
		"truncated mid-write": {
			raw:  stateV4[:len(stateV4)/2],
			want: "the state is not terraform's JSON state format: unexpected end of JSON input",
		},
		"not an object": {
			raw:  `["version", 4]`,
			want: "the state is not a JSON object: check that it was written by terraform",
		},
		"null": {
			raw:  `null`,
			want: "the state is not a JSON object: check that it was written by terraform",
		},
		"an older format": {
			raw:  `{"version": 3, "modules": [{"outputs": {"jit_complete": {"value": []}}}]}`,
			want: "the state's format version is 3, want 4: run a terraform command on the workspace so that terraform upgrades it",
		},
		"no version": {
			raw:  `{"outputs": {}}`,
			want: "the state's format version is none, want 4",
		},
		"wrong type of outputs": {
			raw:  `{"version": 4, "outputs": ["SECRET-VALUE"]}`,
			want: "the state is not terraform's JSON state format: json: cannot unmarshal array",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := terraform.ParseState([]byte(tc.raw))
			if err == nil {
				t.Fatal("ParseState accepted it")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not start with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q quotes the state", err)
			}
		})
	}
}

// FuzzParseState: any input either parses into a State with non-nil Outputs
// and well-formed addresses, or is an error that never quotes the input.
func FuzzParseState(f *testing.F) {
	for _, s := range []string{"", " ", "null", "{}", `{"version": 4}`, stateV4, stateV4[:100],
		`{"version": 4, "resources": [{"mode": "managed", "type": "", "name": "", "instances": null}]}`,
		`{"version": 4, "outputs": {"a": {"value": null}}}`, `{"version": 4.0}`, `{"version": "4"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		st, err := terraform.ParseState(raw)
		if err != nil {
			if st.Outputs != nil || st.Resources != nil {
				t.Errorf("an error with a partial state %+v", st)
			}
			if len(raw) > 8 && strings.Contains(err.Error(), string(raw)) {
				t.Errorf("error %q quotes the input", err)
			}
			return
		}
		if st.Outputs == nil {
			t.Error("Outputs is nil")
		}
		for _, r := range st.Resources {
			if !strings.Contains(r.Address, ".") {
				t.Errorf("address %q has no dot", r.Address)
			}
		}
		again, err := terraform.ParseState(raw)
		if err != nil {
			t.Fatalf("second parse: %v", err)
		}
		if d := cmp.Diff(st, again); d != "" {
			t.Errorf("not deterministic (-first +second):\n%s", d)
		}
	})
}
