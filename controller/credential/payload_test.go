package credential_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/credential"
)

func testPayload() credential.Payload {
	return credential.Payload{
		Grant: "prod/db/alice-inc-1234", Template: "postgres-role", Requester: "alice",
		ExpiresAt:  "2026-05-01T14:00:00Z",
		Connection: map[string]string{"role": "jit_x", "database": "orders", "host": "127.0.0.1", "port": "5432"},
		Password:   "pw\"\n\\ü",
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	p := testPayload()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "grant": "prod/db/alice-inc-1234",
  "template": "postgres-role",
  "requester": "alice",
  "expires_at": "2026-05-01T14:00:00Z",
  "connection": {
    "database": "orders",
    "host": "127.0.0.1",
    "port": "5432",
    "role": "jit_x"
  },
  "password": "pw\"\n\\ü"
}
`
	if d := cmp.Diff(want, string(b)); d != "" {
		t.Errorf("Marshal (-want +got):\n%s", d)
	}
	got, err := credential.ParsePayload(b)
	if err != nil {
		t.Fatal(err)
	}
	p.Version = credential.PayloadVersion
	if d := cmp.Diff(p, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestParsePayloadRejects(t *testing.T) {
	ok := `"grant":"g","template":"t","requester":"r","expires_at":"2026-05-01T14:00:00Z","connection":{},"password":"p"`
	tests := map[string]struct{ in, want string }{
		"not json":       {"password: x", "credential is not a jit credential (JSON object): invalid character"},
		"array":          {"[]", "credential is not a jit credential (JSON object): json: cannot unmarshal array"},
		"unknown field":  {`{"version":1,` + ok + `,"extra":1}`, `credential is not a jit credential (JSON object): json: unknown field "extra"`},
		"trailing data":  {`{"version":1,` + ok + `} {}`, "credential has data after its JSON object"},
		"missing field":  {`{"version":1,"grant":"g"}`, "credential lacks a field: want version, grant, template, requester, expires_at, connection and password"},
		"other version":  {`{"version":2,` + ok + `}`, "credential version 2: this jit reads version 1; use the jit release that issued it"},
		"no password":    {`{"version":1,` + strings.Replace(ok, `"password":"p"`, `"password":""`, 1) + `}`, "credential holds no password"},
		"local time":     {`{"version":1,` + strings.Replace(ok, "14:00:00Z", "14:00:00+02:00", 1) + `}`, `credential expires_at "2026-05-01T14:00:00+02:00" is not an RFC 3339 UTC time`},
		"number in conn": {`{"version":1,` + strings.Replace(ok, `"connection":{}`, `"connection":{"port":5432}`, 1) + `}`, "credential is not a jit credential (JSON object): json: cannot unmarshal number"},
		"empty key":      {`{"version":1,` + strings.Replace(ok, `"connection":{}`, `"connection":{"":"x"}`, 1) + `}`, "credential connection has an empty key"},
		"not utf-8":      {"{\"version\":1,\"grant\":\"\xff\"}", "credential is not valid UTF-8"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := credential.ParsePayload([]byte(tc.in))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %v, want prefix %q", err, tc.want)
			}
		})
	}
	if _, err := (credential.Payload{Grant: "g"}).Marshal(); err == nil {
		t.Error("Marshal of an incomplete payload succeeded")
	}
}

// FuzzParsePayload: parsing never panics, and whatever parses encodes back
// to something that parses to the same payload.
func FuzzParsePayload(f *testing.F) {
	b, err := testPayload().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"grant":"g","template":"t","requester":"r","expires_at":"2026-05-01T14:00:00Z","connection":null,"password":"p"}`))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := credential.ParsePayload(in)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("a parsed payload does not encode: %v", err)
		}
		again, err := credential.ParsePayload(out)
		if err != nil {
			t.Fatalf("re-encoded payload does not parse: %v\n%s", err, out)
		}
		if d := cmp.Diff(p, again); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}
