package hook_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu/hook"
)

// vector is one signature test vector from testdata/delivery-headers.json.
type vector struct {
	Secret    string `json:"secret"`
	Payload   string `json:"payload"`
	Signature string `json:"X-Hub-Signature-256"`
}

func loadVectors(t testing.TB) map[string]vector {
	t.Helper()
	data, err := os.ReadFile("testdata/delivery-headers.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Signature struct {
			Official vector `json:"official_test_vector"`
			Extra    vector `json:"extra_vector_computed_locally"`
		} `json:"signature"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("testdata/delivery-headers.json: %v", err)
	}
	vs := map[string]vector{"GitHub docs official": doc.Signature.Official, "extra": doc.Signature.Extra}
	for name, v := range vs {
		if v.Secret == "" || v.Signature == "" {
			t.Fatalf("testdata/delivery-headers.json: vector %q is incomplete: %+v", name, v)
		}
	}
	return vs
}

func TestSignReproducesGitHubTestVectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			got := hook.Sign([]byte(v.Secret), []byte(v.Payload))
			if got != v.Signature {
				t.Errorf("Sign(%q, %q) = %s, want %s", v.Secret, v.Payload, got, v.Signature)
			}
			if !hook.Verify([]byte(v.Secret), []byte(v.Payload), v.Signature) {
				t.Errorf("Verify rejects GitHub's own signature %s", v.Signature)
			}
			// go-github, which the App uses, must agree.
			if err := github.ValidateSignature(got, []byte(v.Payload), []byte(v.Secret)); err != nil {
				t.Errorf("go-github rejects our signature: %v", err)
			}
		})
	}
}

func TestSignSHA1AgreesWithGoGitHub(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			sig := hook.SignSHA1([]byte(v.Secret), []byte(v.Payload))
			if !strings.HasPrefix(sig, "sha1=") || len(sig) != len("sha1=")+40 {
				t.Fatalf("SignSHA1 = %q, want sha1= and 40 hex digits", sig)
			}
			if err := github.ValidateSignature(sig, []byte(v.Payload), []byte(v.Secret)); err != nil {
				t.Errorf("go-github rejects %s: %v", sig, err)
			}
			if err := github.ValidateSignature(sig, []byte(v.Payload+" "), []byte(v.Secret)); err == nil {
				t.Errorf("go-github accepts %s for a different body; the check proves nothing", sig)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")
	good := hook.Sign(secret, body)
	hexSum := strings.TrimPrefix(good, "sha256=")
	tests := map[string]struct {
		secret []byte
		body   []byte
		sig    string
		want   bool
	}{
		"valid":                        {secret, body, good, true},
		"valid, upper-case hex":        {secret, body, "sha256=" + strings.ToUpper(hexSum), true},
		"other body":                   {secret, []byte("Hello, World?"), good, false},
		"other secret":                 {[]byte("another secret"), body, good, false},
		"empty secret never verifies":  {nil, body, hook.Sign(nil, body), false},
		"sha1 form is not accepted":    {secret, body, hook.SignSHA1(secret, body), false},
		"missing prefix":               {secret, body, hexSum, false},
		"wrong prefix":                 {secret, body, "sha512=" + hexSum, false},
		"truncated":                    {secret, body, good[:len(good)-2], false},
		"too long":                     {secret, body, good + "00", false},
		"not hex":                      {secret, body, "sha256=" + strings.Repeat("zz", 32), false},
		"empty header":                 {secret, body, "", false},
		"prefix repeated":              {secret, body, "sha256=sha256=" + hexSum, false},
		"whitespace around is refused": {secret, body, " " + good, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := hook.Verify(tc.secret, tc.body, tc.sig); got != tc.want {
				t.Errorf("Verify(%q, %q, %q) = %v, want %v", tc.secret, tc.body, tc.sig, got, tc.want)
			}
		})
	}
}

// FuzzVerify checks that Verify never panics, accepts what Sign produces and
// accepts nothing else (up to hex case).
func FuzzVerify(f *testing.F) {
	f.Add([]byte("It's a Secret to Everybody"), []byte("Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	f.Add([]byte("s"), []byte(`{"zen":"x"}`), "sha1=0000")
	f.Add([]byte{}, []byte{}, "")
	f.Add([]byte("s"), []byte("b"), "sha256=")
	f.Fuzz(func(t *testing.T, secret, body []byte, sig string) {
		got := hook.Verify(secret, body, sig)
		want := len(secret) > 0 && strings.EqualFold(sig, hook.Sign(secret, body)) && strings.HasPrefix(sig, "sha256=")
		if got != want {
			t.Errorf("Verify(%q, %q, %q) = %v, want %v", secret, body, sig, got, want)
		}
		if len(secret) > 0 && !hook.Verify(secret, body, hook.Sign(secret, body)) {
			t.Errorf("Verify rejects Sign's own output for secret %q body %q", secret, body)
		}
	})
}
