package trailer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/trailer"
)

// authorized returns "keytype base64" for s.
func authorized(s ssh.Signer) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}

func TestParseAllowedSigners(t *testing.T) {
	s1, s2 := testSigner(t, 1), testSigner(t, 2)
	k1, k2 := authorized(s1), authorized(s2)
	_, ec := ecdsaKey(t)
	ecLine := authorized(ec)

	type signer struct {
		Line                   int
		Principals, Namespaces []string
		Key                    string
	}
	for _, tc := range []struct {
		name, text string
		want       []signer
	}{
		{"empty", "", nil},
		{"comments and blank lines", "# jit signers\n\n   \n\t# indented comment\n", nil},
		{"one line with comment", "jit " + k1 + " controller 2024\n", []signer{{1, []string{"jit"}, nil, k1}}},
		{"no trailing newline", "jit " + k1, []signer{{1, []string{"jit"}, nil, k1}}},
		{"CRLF", "# c\r\njit " + k1 + "\r\n", []signer{{2, []string{"jit"}, nil, k1}}},
		{"principal list and options", `jit,alice@example.com namespaces="jit,git" ` + k2 + "\n",
			[]signer{{1, []string{"jit", "alice@example.com"}, []string{"jit", "git"}, k2}}},
		{"quoted principals", `"jit,ops" ` + k1, []signer{{1, []string{"jit", "ops"}, nil, k1}}},
		{"option name in capitals", `jit Namespaces="jit" ` + k1, []signer{{1, []string{"jit"}, []string{"jit"}, k1}}},
		{"escaped quote in option", `jit namespaces="a\"b" ` + k1, []signer{{1, []string{"jit"}, []string{`a"b`}, k1}}},
		{"space inside quoted option", `jit namespaces="a b" ` + k1, []signer{{1, []string{"jit"}, []string{"a b"}, k1}}},
		{"tabs between fields", "jit\t" + strings.Replace(k1, " ", "\t", 1), []signer{{1, []string{"jit"}, nil, k1}}},
		{"other key types are read", "jit " + ecLine + "\njit " + k1, []signer{{1, []string{"jit"}, nil, ecLine}, {2, []string{"jit"}, nil, k1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as, err := trailer.ParseAllowedSigners("jit-signers", []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			var got []signer
			for _, a := range as {
				got = append(got, signer{a.Line, a.Principals, a.Namespaces, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(a.Key)))})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAllowedSignersRejects(t *testing.T) {
	k := authorized(testSigner(t, 1))
	b64 := strings.Fields(k)[1]
	for _, tc := range []struct {
		name, text string
		line, col  int
		substr     string
	}{
		{"principals only", "jit\n", 1, 4, "no key after the principals"},
		{"unterminated quote", `"jit ` + k, 1, 1, "principals open a quote that is never closed"},
		{"empty quoted principals", `"" ` + k, 1, 3, "empty principals"},
		{"text glued to quote", `"jit"x ` + k, 1, 6, "expected a space after the quoted principals"},
		{"cert-authority", "jit cert-authority " + k, 1, 5, "cert-authority is not supported"},
		{"valid-after", `jit valid-after="20240101" ` + k, 1, 5, "valid-after is not supported"},
		{"valid-before after namespaces", `jit namespaces="jit",valid-before="20300101" ` + k, 1, 22, "valid-before is not supported"},
		{"unknown option", "jit restrict " + k, 1, 5, `"restrict" is neither a key type nor a supported option`},
		{"misspelt key type", "jit ssh-ed2559 " + b64, 1, 5, `"ssh-ed2559" is neither a key type nor a supported option`},
		{"namespaces without quotes", "jit namespaces=jit " + k, 1, 5, `write namespaces="jit" with the value in double quotes`},
		{"namespaces twice", `jit namespaces="jit",namespaces="git" ` + k, 1, 22, "namespaces appears twice"},
		{"empty option", `jit namespaces="jit",, ` + k, 1, 22, "empty option"},
		{"options unterminated", `jit namespaces="jit ` + k, 1, 5, "options open a quote that is never closed"},
		{"options without key", `jit namespaces="jit"`, 1, 21, "no key after the options"},
		{"no base64", "jit ssh-ed25519", 1, 16, "no base64 key after ssh-ed25519"},
		{"bad base64", "jit ssh-ed25519 AAAA*", 1, 17, "key is not base64"},
		{"not a key", "jit ssh-ed25519 AAAA", 1, 17, "not an SSH public key"},
		{"type mismatch", "jit ssh-rsa " + b64, 1, 5, "key type is written ssh-rsa but the key is ssh-ed25519"},
		{"certificate", "jit ssh-ed25519-cert-v01@openssh.com " + b64, 1, 5, "certificates are not supported"},
		{"NUL", "jit " + k + " x\x00", 1, len("jit "+k+" x") + 1, "NUL or carriage return"},
		{"line numbers count comments", "# one\n\njit " + k + "\njit nope", 4, 5, `"nope" is neither`},
		{"columns count characters", "\"jé\" ssh-ed25519 AAAA", 1, 18, "not an SSH public key"},
		{"too big", strings.Repeat("#\n", trailer.MaxAllowedSignersSize/2+1), 1, 0, "at most 1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as, err := trailer.ParseAllowedSigners(".github/jit-signers", []byte(tc.text))
			if err == nil {
				t.Fatalf("accepted: %+v", as)
			}
			var se *trailer.SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, trailer.ErrMalformed) {
				t.Fatalf("error %v (%T) is not a *SyntaxError matching ErrMalformed", err, err)
			}
			if se.File != ".github/jit-signers" || se.Line != tc.line || se.Column != tc.col {
				t.Errorf("at %s:%d:%d, want .github/jit-signers:%d:%d (%s)", se.File, se.Line, se.Column, tc.line, tc.col, se.Msg)
			}
			if !strings.Contains(se.Msg, tc.substr) {
				t.Errorf("message %q does not contain %q", se.Msg, tc.substr)
			}
			if as != nil {
				t.Errorf("signers returned with the error")
			}
		})
	}
}

func TestParseAllowedSignersReportsEveryLine(t *testing.T) {
	k := authorized(testSigner(t, 1))
	_, err := trailer.ParseAllowedSigners("f", []byte("jit "+k+"\njit\njit cert-authority "+k+"\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	want := "f:2:4: no key after the principals; write: principals [options] keytype base64-key [comment]\n" +
		"f:3:5: cert-authority is not supported: a Jit-Signature embeds the signing key itself, never a certificate; list the controller's public key"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
}
