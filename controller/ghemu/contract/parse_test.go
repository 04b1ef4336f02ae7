package contract_test

import (
	"strings"
	"testing"

	"github.com/jitops/jit/controller/ghemu/contract"
)

func TestParseRejects(t *testing.T) {
	tests := map[string]struct {
		parse   func([]byte) error
		in      string
		wantErr string
	}{
		"REST: not JSON": {parse: parseREST, in: `{"openapi":`,
			wantErr: "parsing GitHub's REST description: unexpected end of JSON input"},
		"REST: dangling $ref": {parse: parseREST,
			in:      `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"$ref":"#/components/responses/nope"}}}}}}`,
			wantErr: "resolving $refs in GitHub's REST description: "},
		"webhooks: not JSON": {parse: parseWebhooks, in: `{"$id":`,
			wantErr: "parsing GitHub's webhook schemas: "},
		"webhooks: no index": {parse: parseWebhooks, in: `{"$id":"https://example.invalid/x.json","$defs":{}}`,
			wantErr: "webhook schema bundle: it needs an $id and a non-empty x-webhook-index"},
		"webhooks: no $id": {parse: parseWebhooks, in: `{"x-webhook-index":{"ping":{"x_github_event":"ping","action":null,"schema":"#/$defs/p"}}}`,
			wantErr: "webhook schema bundle: it needs an $id and a non-empty x-webhook-index"},
		"webhooks: index points nowhere": {parse: parseWebhooks,
			in:      `{"$id":"https://example.invalid/x.json","x-webhook-index":{"ping":{"x_github_event":"ping","action":null,"schema":"#/$defs/p"}},"$defs":{}}`,
			wantErr: "compiling webhook schema ping (#/$defs/p): "},
		"webhooks: invalid schema": {parse: parseWebhooks,
			in:      `{"$id":"https://example.invalid/x.json","x-webhook-index":{"ping":{"x_github_event":"ping","action":null,"schema":"#/$defs/p"}},"$defs":{"p":{"type":7}}}`,
			wantErr: "compiling webhook schema ping (#/$defs/p): "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func parseREST(b []byte) error     { _, err := contract.ParseREST(b); return err }
func parseWebhooks(b []byte) error { _, err := contract.ParseWebhooks(b); return err }
