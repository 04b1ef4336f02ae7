package credential_test

import (
	"regexp"
	"testing"

	"github.com/jitops/jit/controller/credential"
)

func TestNewPassword(t *testing.T) {
	alphabet := regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`)
	seen := map[string]bool{}
	for range 1000 {
		pw, err := credential.NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		if !alphabet.MatchString(pw) {
			t.Fatalf("password %q is not 32 URL-safe characters", pw)
		}
		if seen[pw] {
			t.Fatalf("password %q generated twice", pw)
		}
		seen[pw] = true
		if _, err := credential.SCRAMVerifier(pw); err != nil {
			t.Fatalf("SCRAMVerifier refuses a generated password: %v", err)
		}
	}
}
