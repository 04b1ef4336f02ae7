package credential_test

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/credential"
)

// FuzzParseAuthorizedKeys feeds arbitrary authorized_keys text: parsing never
// panics, accounts for every non-blank, non-comment line exactly once, and
// only ever yields ssh-ed25519 or ssh-rsa keys.
func FuzzParseAuthorizedKeys(f *testing.F) {
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		f.Fatal(err)
	}
	ed := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	f.Add(ed + " alice@laptop")
	f.Add("# comment\n\n" + ed + "\r\n" + ed + " second")
	f.Add(`command="echo hi",no-pty ` + ed + " with options")
	f.Add("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg= ec")
	f.Add("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ== short")
	f.Add("ssh-ed25519 !!!")
	f.Add("\x00\xff ssh-ed25519")
	f.Fuzz(func(t *testing.T, text string) {
		keys, problems := credential.ParseAuthorizedKeys([]string{text})
		want, lines := 0, 0
		for line := range strings.Lines(text) {
			lines++
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "#") {
				want++
			}
		}
		if len(keys)+len(problems) != want {
			t.Fatalf("%d keys + %d problems for %d key lines", len(keys), len(problems), want)
		}
		for _, k := range keys {
			if k.Type != "ssh-ed25519" && k.Type != "ssh-rsa" {
				t.Errorf("key of type %q accepted", k.Type)
			}
			if !strings.HasPrefix(k.Fingerprint, "SHA256:") {
				t.Errorf("fingerprint %q", k.Fingerprint)
			}
		}
		last := 0
		for _, p := range problems {
			if p.Line <= last || p.Line > lines || p.Msg == "" {
				t.Errorf("problem %+v out of order or range (%d lines)", p, lines)
			}
			last = p.Line
		}
	})
}
