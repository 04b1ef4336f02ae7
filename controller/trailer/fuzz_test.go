package trailer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/trailer"
)

// FuzzParse: Parse never panics; an error is a *SyntaxError inside the
// message; accepted trailers are lines of the message and survive Format and
// Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.msg)
	}
	for _, s := range []string{
		"m\n\nJit-Grant:a\n", "m\n\nJit-Grant: a\r\n", "Jit-Grant: a\n", "m\n\nJIT-GRANT: a\n",
		"m\n\nJit-Grant: a\nJit-Signature: s\nJit-Signature: t\n", "m\n\nJit-Grant: a\n b\n",
		"m\n\nJit-Error: \u202e\n", "m\n\nJit-Grant: \xff\n", "\r\n\r\nJit-Grant: a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		ts, err := trailer.Parse(msg)
		if err != nil {
			var se *trailer.SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Line > strings.Count(msg, "\n")+1 || se.Column < 0 {
				t.Fatalf("error %v (%T) is not a SyntaxError inside the message", err, err)
			}
			if ts != nil {
				t.Fatalf("trailers with an error")
			}
			return
		}
		if ts == nil {
			return
		}
		if !strings.Contains(msg, strings.TrimSuffix(trailer.Format(ts), "\n")) {
			t.Fatalf("Format(Parse(msg)) is not in msg: %q", trailer.Format(ts))
		}
		again, err := trailer.Parse("subject\n\n" + trailer.Format(ts))
		if err != nil {
			t.Fatalf("Parse of formatted trailers: %v", err)
		}
		if diff := cmp.Diff(ts, again); diff != "" {
			t.Fatalf("round trip (-first +again):\n%s", diff)
		}
	})
}

// FuzzAllowedSigners: ParseAllowedSigners never panics; errors are
// SyntaxErrors at a line of the file; accepted signers are complete, and
// CRLF line endings read the same.
func FuzzAllowedSigners(f *testing.F) {
	k := authorized(testSigner(f, 1))
	for _, s := range []string{
		"", "# c\n\njit " + k + " comment\n", `"jit,ops" namespaces="jit,git" ` + k,
		`jit namespaces="a\"b" ` + k, "jit cert-authority " + k, `jit valid-after="2024" ` + k,
		"jit ssh-ed25519 AAAA", `"jit ` + k, `jit namespaces="x`, "jit ssh-ed25519-cert-v01@openssh.com AAAA",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := trailer.ParseAllowedSigners("f", data)
		if err != nil {
			var se *trailer.SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("error %v (%T) is not a SyntaxError at a line of the file", err, err)
			}
			return
		}
		for _, a := range as {
			if a.Key == nil || len(a.Principals) == 0 || a.Line < 1 {
				t.Fatalf("incomplete signer %+v", a)
			}
		}
		if strings.Contains(string(data), "\r") {
			return
		}
		crlf, err := trailer.ParseAllowedSigners("f", []byte(strings.ReplaceAll(string(data), "\n", "\r\n")))
		if err != nil {
			t.Fatalf("CRLF version rejected: %v", err)
		}
		if len(crlf) != len(as) {
			t.Fatalf("CRLF version has %d signers, LF %d", len(crlf), len(as))
		}
	})
}

// recordSeeds are messages carrying valid and nearly valid records.
func recordSeeds(f *testing.F) {
	d, err := fullDecision().Trailers()
	if err != nil {
		f.Fatal(err)
	}
	e, err := trailer.Event{Kind: trailer.Activated, Grants: []string{"a"}, Resources: []string{"x.y"}, ExpiresAt: fixedNow, Parent: sha1}.Trailers()
	if err != nil {
		f.Fatal(err)
	}
	x, err := trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Reason: "revoked-by bob", Head: sha1}.Trailers()
	if err != nil {
		f.Fatal(err)
	}
	for _, ts := range [][]trailer.Trailer{d, e, x} {
		f.Add("Merge\n\n" + trailer.Format(ts))
		f.Add("Merge\n\n" + trailer.Format(ts) + "Jit-Signature: QUJD\n")
		f.Add("Merge\n\n" + trailer.Format(ts[1:]))
	}
}

// FuzzDecisionFrom: whatever DecisionFrom accepts writes back, through
// Trailers, to exactly the trailers it read (without the signature).
func FuzzDecisionFrom(f *testing.F) {
	fuzzRecord(f, func(ts []trailer.Trailer) (func() ([]trailer.Trailer, error), error) {
		d, err := trailer.DecisionFrom(ts)
		return d.Trailers, err
	})
}

// FuzzEventFrom: whatever EventFrom accepts writes back, through Trailers,
// to exactly the trailers it read (without the signature).
func FuzzEventFrom(f *testing.F) {
	fuzzRecord(f, func(ts []trailer.Trailer) (func() ([]trailer.Trailer, error), error) {
		e, err := trailer.EventFrom(ts)
		return e.Trailers, err
	})
}

// fuzzRecord fuzzes a record reader: read parses trailers into a record and
// returns its Trailers method. Errors must match ErrMalformed; an accepted
// record must write back exactly the trailers read, less the signature.
func fuzzRecord(f *testing.F, read func([]trailer.Trailer) (func() ([]trailer.Trailer, error), error)) {
	recordSeeds(f)
	f.Fuzz(func(t *testing.T, msg string) {
		ts, err := trailer.Parse(msg)
		if err != nil {
			return
		}
		write, err := read(ts)
		if err != nil {
			if !errors.Is(err, trailer.ErrMalformed) {
				t.Fatalf("error %v does not match ErrMalformed", err)
			}
			return
		}
		back, err := write()
		if err != nil {
			t.Fatalf("Trailers of an accepted record: %v", err)
		}
		if diff := cmp.Diff(withoutSignature(ts), back); diff != "" {
			t.Fatalf("(-read +written):\n%s", diff)
		}
	})
}

func withoutSignature(ts []trailer.Trailer) []trailer.Trailer {
	if n := len(ts); n > 0 && ts[n-1].Key == trailer.KeySignature {
		return ts[:n-1]
	}
	return ts
}

// FuzzVerify: Verify never panics on any signature value, and accepts one
// only if it is the very signature Sign made (SSHSIG over ed25519, strict
// base64: each payload has exactly one valid encoding per key).
func FuzzVerify(f *testing.F) {
	s := testSigner(f, 1)
	signed, err := trailer.Sign(unsigned, s)
	if err != nil {
		f.Fatal(err)
	}
	good := signed[len(signed)-1].Value
	f.Add(good)
	f.Add(good[:len(good)-4])
	f.Add("U1NIU0lH")
	f.Add("")
	signers, err := trailer.ParseAllowedSigners("f", []byte("jit "+authorized(s)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string) {
		ts := append(append([]trailer.Trailer(nil), unsigned...), trailer.Trailer{Key: "Jit-Signature", Value: sig})
		err := trailer.Verify(ts, signers)
		if err == nil && sig != good {
			t.Fatalf("Verify accepted another signature value: %q", sig)
		}
		if err != nil && !errors.Is(err, trailer.ErrBadSignature) && !errors.Is(err, trailer.ErrUnknownKey) {
			t.Fatalf("Verify error %v matches no sentinel", err)
		}
	})
}
