package cli_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/trailer"
)

// sshKey makes a key pair with ssh-keygen (passphrase pass) and returns
// the private key file and the public key line.
func sshKey(t *testing.T, pass string) (string, string) {
	t.Helper()
	requireTool(t, "ssh-keygen")
	file := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", pass, "-C", "alice@test", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(file + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return file, strings.TrimSpace(string(pub))
}

// activate writes the signed activated record of grant id (expiring at
// expires) on main the way the App does: a commit on main's tip made
// through the Git Data API with c's token, author and committer left to
// GitHub. It returns the record's hash.
func (f *userFixture) activate(t *testing.T, c *github.Client, id string, expires time.Time) string {
	t.Helper()
	ctx := context.Background()
	ref, _, err := c.Git.GetRef(ctx, "acme", "access", "heads/main")
	if err != nil {
		t.Fatal(err)
	}
	parent := ref.GetObject().GetSHA()
	tip, _, err := c.Git.GetCommit(ctx, "acme", "access", parent)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := trailer.Event{Kind: trailer.Activated, Grants: []string{id}, ExpiresAt: expires, Parent: parent}.Trailers()
	if err != nil {
		t.Fatal(err)
	}
	msg := f.key.SignedMessage(t, "jit: activated "+id, ts)
	cm, _, err := c.Git.CreateCommit(ctx, "acme", "access", &github.Commit{Message: github.String(msg),
		Tree: tip.Tree, Parents: []*github.Commit{{SHA: github.String(parent)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref.Object.SHA = cm.SHA
	if _, _, err := c.Git.UpdateRef(ctx, "acme", "access", ref, false); err != nil {
		t.Fatal(err)
	}
	return cm.GetSHA()
}

// postCredentials comments p, encrypted to the public key to, on pull
// request 1 as c's user, the way the App delivers credentials.
func postCredentials(t *testing.T, c *github.Client, p credential.Payload, to string) {
	t.Helper()
	plain, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	armored, err := credential.Encrypt(plain, []string{to})
	if err != nil {
		t.Fatal(err)
	}
	expires, err := time.Parse(time.RFC3339, p.ExpiresAt)
	if err != nil {
		t.Fatal(err)
	}
	body := explain.Credentials(p.Grant, p.Requester, expires, string(armored))
	if _, _, err := c.Issues.CreateComment(context.Background(), "acme", "access", 1, &github.IssueComment{Body: github.String(body)}); err != nil {
		t.Fatal(err)
	}
}

// alicePayload is the App's credentials of prod/orders/alice-inc-1.
func alicePayload(expires time.Time) credential.Payload {
	return credential.Payload{Grant: "prod/orders/alice-inc-1", Template: "postgres-role", Requester: "alice",
		ExpiresAt:  expires.Format(time.RFC3339),
		Connection: map[string]string{"host": "db.internal", "port": "5432", "database": "orders", "role": "jit_alice_1"},
		Password:   "s3cret-from-the-app"}
}

// TestCredentialsPassphraseInterrupted runs the jit binary in a terminal
// (tmux) on a passphrase-protected key: Ctrl-C at the passphrase prompt
// ends jit with the terminal's echo back on; answered, the key unlocks,
// the credentials print, and the echo is on again.
func TestCredentialsPassphraseInterrupted(t *testing.T) {
	bin, f := terminalFixture(t)
	lockedFile, lockedPub := sshKey(t, "correct horse")
	f.request(t)
	expires := f.merge(t, 1, "prod/orders/alice-inc-1", "alice", 2*time.Hour)
	bot, err := f.srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	postCredentials(t, bot, alicePayload(expires), lockedPub)
	f.activate(t, bot, "prod/orders/alice-inc-1", expires)

	run := bin + " credentials prod/orders/alice-inc-1 --identity " + lockedFile + " --repo " + f.clone
	// stty -a lists "-echo" when the echo is off, "echo" when on.
	echo := func(after string) string {
		return `echo "` + after + ` echo is $(stty -a | tr ' ;' '\n\n' | grep -x -e echo -e -echo)."`
	}
	s := newTmux(t, f.terminalEnv(), run+`; echo "jit exited $?"; `+echo("first:")+"; "+run+`; echo "second exited $?"; `+echo("second:")+"; sleep 600")

	s.waitFor("Passphrase for " + lockedFile + ": ")
	if out, err := exec.Command("tmux", "-L", s.socket, "send-keys", "-t", "jit", "C-c").CombinedOutput(); err != nil {
		t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
	sc := s.waitFor("first: echo is ")
	if !strings.Contains(sc, "jit exited 1") || !strings.Contains(sc, "no passphrase: interrupted") || !strings.Contains(sc, "first: echo is echo.") {
		t.Errorf("after Ctrl-C at the passphrase prompt:\n%s", sc)
	}
	// The second run's prompt follows the first run's echo line.
	s.answer("first: echo is echo.\nPassphrase for "+lockedFile+": ", "correct horse")
	sc = s.waitFor("second: echo is ")
	if !strings.Contains(sc, "second exited 0") || !strings.Contains(sc, "PGPASSWORD='s3cret-from-the-app'") || strings.Contains(sc, "correct horse") ||
		!strings.Contains(sc, "second: echo is echo.") {
		t.Errorf("answering the passphrase:\n%s", sc)
	}
}

// TestCredentials: jit credentials finds the encrypted comment of the App
// that wrote the grant's signed activated record (its bot, the record's
// author) on the grant's request pull request (named by the signed
// decision), decrypts it with the requester's ssh-keygen key and prints
// the connection settings, the expiry and the expiry hint; before that
// record exists it says "not activated yet" and trusts no comment; a
// look-alike comment by a person is ignored.
func TestCredentials(t *testing.T) {
	f := newUserFixture(t)
	keyFile, pub := sshKey(t, "")
	f.request(t)
	expires := f.merge(t, 1, "prod/orders/alice-inc-1", "alice", 2*time.Hour)

	post := func(c *github.Client, p credential.Payload, to string) { t.Helper(); postCredentials(t, c, p, to) }
	payload := alicePayload(expires)

	// Before the App activated anything: a clear "not yet".
	code, out, errOut := f.run(t, "alice", "credentials", "prod/orders/alice-inc-1", "--identity", keyFile, "--wait", "0")
	if code != cli.ExitProblems || !strings.Contains(errOut, "grant prod/orders/alice-inc-1 is not activated yet") {
		t.Errorf("before delivery: exit %d\n%s\n%s", code, out, errOut)
	}

	bot, err := f.srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	post(bot, payload, pub)
	// A comment alone, even the App's, is not enough: without the signed
	// activated record nothing says which account is the App.
	code, out, errOut = f.run(t, "alice", "credentials", "prod/orders/alice-inc-1", "--identity", keyFile, "--wait", "1s")
	if code != cli.ExitProblems || !strings.Contains(errOut, "grant prod/orders/alice-inc-1 is not activated yet: main") || out != "" ||
		strings.Count(errOut, "waiting up to 1s") != 1 {
		t.Errorf("before activation: exit %d\n%s\n%s", code, out, errOut)
	}
	// Asked while jit is still applying it, jit credentials waits for the
	// activation record and then answers.
	type result struct {
		code        int
		out, errOut string
	}
	waited := make(chan result, 1)
	go func() {
		code, out, errOut := f.run(t, "alice", "credentials", "prod/orders/alice-inc-1", "--identity", keyFile, "--wait", "60s")
		waited <- result{code, out, errOut}
	}()
	time.Sleep(3 * time.Second)
	f.activate(t, bot, "prod/orders/alice-inc-1", expires)
	if r := <-waited; r.code != cli.ExitOK || !strings.Contains(r.errOut, "is merged but jit has not recorded its activation yet; waiting up to 1m0s") ||
		!strings.Contains(r.out, "PGPASSWORD='s3cret-from-the-app'") {
		t.Errorf("waiting for the activation: exit %d\n%s\n%s", r.code, r.out, r.errOut)
	}
	// bob posts a newer look-alike, encrypted to alice's key too, pointing
	// at his own server: it must not be used.
	evil := payload
	evil.Connection = map[string]string{"host": "evil.example", "port": "5432", "database": "orders", "role": "jit_alice_1"}
	post(f.srv.Client("bob"), evil, pub)

	code, out, errOut = f.run(t, "alice", "credentials", "prod/orders/alice-inc-1", "--identity", keyFile)
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"connect:   PGPASSWORD='s3cret-from-the-app' psql 'postgresql://jit_alice_1@db.internal:5432/orders'",
		"expires:   " + expires.Format("2006-01-02 15:04:05 UTC"), "password authentication failed", "the grant expired, not that the password is wrong"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "evil.example") {
		t.Errorf("used a comment by a person:\n%s", out)
	}

	// Another key cannot read it; an unknown grant is named.
	otherFile, _ := sshKey(t, "")
	code, _, errOut = f.run(t, "alice", "credentials", "prod/orders/alice-inc-1", "--identity", otherFile)
	if code != cli.ExitProblems || !strings.Contains(errOut, credential.ErrNotRecipient.Error()) {
		t.Errorf("wrong key: exit %d %s", code, errOut)
	}
	code, _, errOut = f.run(t, "alice", "credentials", "prod/orders/nobody-1", "--identity", keyFile)
	if code != cli.ExitProblems || !strings.Contains(errOut, "no grant prod/orders/nobody-1 on main") {
		t.Errorf("unknown grant: exit %d %s", code, errOut)
	}
	// A passphrase-protected key needs a terminal to ask on.
	lockedFile, lockedPub := sshKey(t, "correct horse")
	post(bot, payload, lockedPub)
	code, _, errOut = f.run(t, "alice", "credentials", "prod/orders/alice-inc-1", "--identity", lockedFile)
	if code != cli.ExitProblems || !strings.Contains(errOut, "is passphrase-protected and there is no terminal to ask for the passphrase on") {
		t.Errorf("locked key without a terminal: exit %d %s", code, errOut)
	}
}
