package credential_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var verifierFormat = regexp.MustCompile(`^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$`)

type verifier struct {
	iterations                 int
	salt, storedKey, serverKey []byte
}

func parseVerifier(t *testing.T, v string) verifier {
	t.Helper()
	m := verifierFormat.FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("verifier %q is not in PostgreSQL's SCRAM-SHA-256 format", v)
	}
	var out verifier
	var err error
	if out.iterations, err = strconv.Atoi(m[1]); err != nil {
		t.Fatal(err)
	}
	for i, dst := range []*[]byte{&out.salt, &out.storedKey, &out.serverKey} {
		if *dst, err = base64.StdEncoding.DecodeString(m[i+2]); err != nil {
			t.Fatalf("verifier %q part %d: %v", v, i+2, err)
		}
	}
	return out
}

func hmacSHA256(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

// TestSCRAMVerifierRFC7677 checks the keys against the exchange in RFC 7677
// section 3: the server's signature (v=) and the client's proof (p=) for the
// password "pencil" must both follow from StoredKey and ServerKey.
func TestSCRAMVerifierRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v := parseVerifier(t, credential.SCRAMVerifierWithSalt("pencil", salt, 4096))
	if v.iterations != 4096 || !bytes.Equal(v.salt, salt) {
		t.Fatalf("iterations, salt = %d, %x; want 4096, %x", v.iterations, v.salt, salt)
	}
	const (
		clientFirstBare = "n=user,r=rOprNGfwEbeRWgbNEkqO"
		serverFirst     = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
		clientFinalBare = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
		wantProof       = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
		wantServerSig   = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
	)
	authMessage := clientFirstBare + "," + serverFirst + "," + clientFinalBare

	if got := base64.StdEncoding.EncodeToString(hmacSHA256(v.serverKey, authMessage)); got != wantServerSig {
		t.Errorf("ServerSignature = %s, want %s (RFC 7677)", got, wantServerSig)
	}
	// The server checks a proof by recovering ClientKey and hashing it.
	proof, _ := base64.StdEncoding.DecodeString(wantProof)
	clientSig := hmacSHA256(v.storedKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	if sum := sha256.Sum256(clientKey); !bytes.Equal(sum[:], v.storedKey) {
		t.Errorf("the RFC's client proof does not verify against StoredKey %x", v.storedKey)
	}
}

func TestSCRAMVerifierIsSaltedAndDeterministic(t *testing.T) {
	a, err := credential.SCRAMVerifier("same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := credential.SCRAMVerifier("same password")
	if err != nil {
		t.Fatal(err)
	}
	va, vb := parseVerifier(t, a), parseVerifier(t, b)
	if va.iterations != credential.SCRAMIterations || len(va.salt) != 16 {
		t.Errorf("iterations, salt length = %d, %d; want %d, 16", va.iterations, len(va.salt), credential.SCRAMIterations)
	}
	if bytes.Equal(va.salt, vb.salt) || a == b {
		t.Error("two verifiers of one password share a salt")
	}
	if again := credential.SCRAMVerifierWithSalt("same password", va.salt, va.iterations); again != a {
		t.Errorf("recomputing with the same salt gave %s, want %s", again, a)
	}
}

func TestSCRAMVerifierRejects(t *testing.T) {
	tests := map[string]struct{ password, want string }{
		"empty":     {"", "the password is empty"},
		"non-ASCII": {"pässword", "the password has byte 0xc3 at offset 1, outside printable ASCII"},
		"newline":   {"line\nbreak", "the password has byte 0x0a at offset 4, outside printable ASCII"},
		"NUL":       {"a\x00", "the password has byte 0x00 at offset 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, err := credential.SCRAMVerifier(tc.password)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SCRAMVerifier(%q) = %q, %v; want error containing %q", tc.password, v, err, tc.want)
			}
		})
	}
}

// TestSCRAMVerifierMatchesPostgreSQL lets the server hash passwords itself
// and recomputes its stored verifiers from their salts.
func TestSCRAMVerifierMatchesPostgreSQL(t *testing.T) {
	c := pgtest.Shared(t)
	passwords := []string{"pencil", `quote ' and " and \ and ;`, strings.Repeat("x", 200), " ~!@#$%^&*()_+{}|:<>?`-=[]"}
	for i, pw := range passwords {
		role := "scram_match_" + strconv.Itoa(i)
		c.Psql(t, "postgres", "\\set pw '"+psqlQuote(pw)+"'\nCREATE ROLE "+role+" LOGIN PASSWORD :'pw';")
		stored := c.Psql(t, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = '"+role+"';")
		v := parseVerifier(t, stored)
		if got := credential.SCRAMVerifierWithSalt(pw, v.salt, v.iterations); got != stored {
			t.Errorf("password %q: ours %s, PostgreSQL's %s", pw, got, stored)
		}
	}
}

// psqlQuote escapes s for a single-quoted psql \set argument.
func psqlQuote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// TestSCRAMVerifierLogsIn is the proof that matters: PostgreSQL stores our
// verifier as given, and the plaintext logs in with password authentication.
func TestSCRAMVerifierLogsIn(t *testing.T) {
	c := pgtest.Shared(t)
	pw, err := credential.NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	v, err := credential.SCRAMVerifier(pw)
	if err != nil {
		t.Fatal(err)
	}
	c.Psql(t, "postgres", "\\set v '"+v+"'\nCREATE ROLE scram_login LOGIN PASSWORD :'v';")
	if got := c.Psql(t, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_login';"); got != v {
		t.Errorf("stored verifier = %s, want ours %s", got, v)
	}
	if err := c.TryLogin("postgres", "scram_login", pw); err != nil {
		t.Errorf("login with the generated password: %v", err)
	}
	err = c.TryLogin("postgres", "scram_login", pw+"x")
	if err == nil || !strings.Contains(err.Error(), `password authentication failed for user "scram_login"`) {
		t.Errorf("login with a wrong password: %v, want password authentication failed", err)
	}
}

func BenchmarkSCRAMVerifier(b *testing.B) {
	for b.Loop() {
		if _, err := credential.SCRAMVerifier("benchmark password"); err != nil {
			b.Fatal(err)
		}
	}
}
