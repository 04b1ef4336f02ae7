package cli

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/lifecycle"
	"github.com/jitops/jit/controller/trailer"
	"github.com/jitops/jit/controller/userapi"
)

const credentialsUsage = `usage: jit credentials ID [--identity ~/.ssh/id_ed25519] [--wait 30s] [--repo DIR] [--github-url URL] [--github-repo OWNER/NAME]

Prints what to connect with for your live grant ID. It finds the grant's
request pull request from the signed decision of its merge at the default
branch (fetched from origin), reads the encrypted credentials comment jit
posted there (only comments by the App that wrote the grant's signed
activation record on the default branch count), decrypts it with your SSH
private key (--identity; default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa; a
passphrase-protected key asks for its passphrase on a terminal) and prints
the connection settings and when they expire. Nothing secret is written to
disk. A grant that is merged but not yet activated (jit is still applying
it) is waited for, fetching again every few seconds, for up to --wait.
` + userEnvHelp

func runCredentials(ctx context.Context, o IO, args []string) int {
	const cmd = "jit credentials"
	fl, uf := newUserFlagSet(o, cmd, credentialsUsage)
	identity := fl.String("identity", "", "your SSH private key `FILE` (default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa)")
	wait := fl.Duration("wait", 30*time.Second, "how long to wait for a merged grant's activation (`DURATION`; 0: answer at once)")
	id, code := parseWithID(fl, args, cmd)
	if code >= 0 {
		return code
	}
	if *wait < 0 {
		fmt.Fprintf(o.Stderr, "%s: --wait %s is negative; give 0 or more, such as 30s\n", cmd, *wait)
		return ExitUsage
	}
	keys, err := identityFiles(*identity)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	s, st, err := uf.openState(ctx)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	g, err := findGrant(st, id, s.branch)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitProblems
	}
	app, err := s.activatedBy(ctx, g)
	for deadline, said := time.Now().Add(*wait), false; errors.Is(err, errNotActivatedYet) && time.Now().Before(deadline); said = true {
		if !said {
			fmt.Fprintf(o.Stderr, "%s: grant %s is merged but jit has not recorded its activation yet; waiting up to %s\n", cmd, id, *wait)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, ctx.Err())
			return ExitProblems
		case <-time.After(activationPoll):
		}
		if s, st, err = uf.openState(ctx); err != nil {
			fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
			return ExitUsage
		}
		if g, err = findGrant(st, id, s.branch); err != nil {
			fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
			return ExitProblems
		}
		app, err = s.activatedBy(ctx, g)
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitProblems
	}
	comments, err := s.gh.Comments(ctx, g.PullRequest)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	armored, err := credentialsCiphertext(comments, id, app)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: pull request #%d: %v\n", cmd, g.PullRequest, err)
		return ExitProblems
	}
	var ask *prompter
	if stdinIsTerminal() {
		ask = newPrompter(os.Stdin, o.Stderr)
	}
	plain, err := decryptWith(ctx, armored, keys, ask)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitProblems
	}
	p, err := credential.ParsePayload(plain)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: the decrypted credentials: %v\n", cmd, err)
		return ExitProblems
	}
	if p.Grant != id {
		fmt.Fprintf(o.Stderr, "%s: the credentials on pull request #%d are for grant %s, not %s; ask the operators\n", cmd, g.PullRequest, p.Grant, id)
		return ExitProblems
	}
	fmt.Fprint(o.Stdout, credential.Present(p, g.Request.Template, time.Now()))
	return ExitOK
}

// errNotActivatedYet says a grant's activation is not recorded yet.
var errNotActivatedYet = errors.New("not activated yet")

// activationPoll is how often jit credentials fetches again while it waits
// for a grant's activation record.
const activationPoll = 2 * time.Second

// identityFiles returns the private keys to try: the one given, or the
// default ones that exist.
func identityFiles(given string) ([]string, error) {
	if given != "" {
		return []string{given}, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("no --identity and no home directory to find ~/.ssh in: %w", err)
	}
	var out []string
	for _, n := range []string{"id_ed25519", "id_rsa"} {
		p := filepath.Join(home, ".ssh", n)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no SSH private key at ~/.ssh/id_ed25519 or ~/.ssh/id_rsa: pass --identity FILE, the private key of a public key on your GitHub account")
	}
	return out, nil
}

const (
	ageBegin = "-----BEGIN AGE ENCRYPTED FILE-----"
	ageEnd   = "-----END AGE ENCRYPTED FILE-----"
)

// activatedBy returns the login of the App that activated grant g: the
// author of the newest signed activated record of g (for g's expiry) on
// the default branch's first-parent history in the fetched clone, read and
// verified against .github/jit-signers by lifecycle.ReadLedger exactly as
// the controller reads its own records.
//
// The record's signature covers its trailers, not its author; the author
// is trusted because the record sits on the default branch's first-parent
// history with a verified signature whose Jit-Parent is the commit below
// it, so only the App (holding the signing key) made that commit, and it
// leaves author and committer to GitHub, which sets its bot account
// ("<slug>[bot]"). Nobody without push rights to the default branch can
// put a commit of their choosing there, and the signed message cannot be
// replayed onto another parent.
func (s *userSession) activatedBy(ctx context.Context, g desired.Grant) (string, error) {
	h, err := s.history()
	if err != nil {
		return "", err
	}
	defer h.Close()
	// Activation records are newer than the grant's decision: the walk
	// stops there.
	l, err := lifecycle.ReadLedger(ctx, h, s.tip, []desired.Grant{g}, 0)
	if err != nil {
		return "", fmt.Errorf("reading the signed records on %s (%s): %w", s.branch, short(s.tip), err)
	}
	id := g.Request.ID
	e, ok := l.Activation(id, g.ExpiresAt)
	if !ok {
		return "", fmt.Errorf("grant %s is %w: %s (%s) has no signed activated record for it since its merge; wait a minute and try again", id, errNotActivatedYet, s.branch, short(s.tip))
	}
	if e.Kind != trailer.Activated {
		return "", fmt.Errorf("grant %s was not activated: the signed record %s says %q; ask the operators", id, short(e.Commit), e.Error)
	}
	c, err := h.CommitInfo(e.Commit)
	if err != nil {
		return "", fmt.Errorf("reading the activation record %s of grant %s: %w", short(e.Commit), id, err)
	}
	return recordBot(c, id)
}

// recordBot returns the App's bot login from an activation record c: its
// author, who must also be its committer and a "<slug>[bot]" account, as
// on every commit an App makes through GitHub's API without naming an
// author.
func recordBot(c history.Commit, id string) (string, error) {
	a := c.Author.Name
	if !strings.HasSuffix(a, "[bot]") || len(a) == len("[bot]") || !strings.EqualFold(a, c.Committer.Name) {
		return "", fmt.Errorf("the signed activation record %s of grant %s is authored by %q and committed by %q, not by one App's bot account (\"<slug>[bot]\"); ask the operators", short(c.Hash), id, a, c.Committer.Name)
	}
	return a, nil
}

// credentialsCiphertext returns the armored ciphertext of the newest
// credentials comment for grant id by app, the bot login of the App that
// activated it (a GitHub App's bot user). Comments by anybody else are
// ignored: anybody may comment on a pull request, and a workflow can
// comment as github-actions[bot] or as another App, with credentials for a
// server of its choosing encrypted to the requester's public keys.
func credentialsCiphertext(comments []userapi.Comment, id, app string) (string, error) {
	marker := explain.CredentialsMarker + strings.ReplaceAll(id, "--", "- -") + " -->"
	var found []userapi.Comment
	ignored := 0
	for _, c := range comments {
		if !strings.HasPrefix(c.Body, marker) {
			continue
		}
		if !c.Bot || !grant.SameLogin(c.Author, app) {
			ignored++
			continue
		}
		found = append(found, c)
	}
	if len(found) == 0 {
		msg := fmt.Sprintf("no credentials comment from %s yet: the grant may not be applied yet (wait a minute and try again), or its template issues no credentials", app)
		if ignored > 0 {
			msg += fmt.Sprintf(" (%d look-alike %s by others ignored)", ignored, plural(ignored, "comment", "comments"))
		}
		return "", errors.New(msg)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].CreatedAt.Before(found[j].CreatedAt) })
	body := found[len(found)-1].Body
	i, j := strings.Index(body, ageBegin), strings.Index(body, ageEnd)
	if i < 0 || j < i {
		return "", errors.New("the credentials comment holds no age ciphertext")
	}
	return body[i:j+len(ageEnd)] + "\n", nil
}

// decryptWith decrypts armored with the first of keys it is encrypted to,
// asking ask for the passphrase of a protected key (never on disk).
func decryptWith(ctx context.Context, armored string, keys []string, ask *prompter) ([]byte, error) {
	var errs []error
	for _, k := range keys {
		pemBytes, err := os.ReadFile(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", k, err))
			continue
		}
		plain, err := credential.Decrypt([]byte(armored), pemBytes)
		if errors.Is(err, credential.ErrPassphraseProtected) {
			if ask == nil {
				errs = append(errs, fmt.Errorf("%s is passphrase-protected and there is no terminal to ask for the passphrase on", k))
				continue
			}
			pemBytes, err = unlockKey(ctx, pemBytes, k, ask)
			if errors.Is(err, errInterrupted) {
				return nil, err
			}
			if err == nil {
				plain, err = credential.Decrypt([]byte(armored), pemBytes)
			}
		}
		if err == nil {
			return plain, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", k, err))
	}
	return nil, fmt.Errorf("decrypting the credentials: %w", errors.Join(errs...))
}

// unlockKey asks for key's passphrase and returns the key unencrypted, in
// memory only.
func unlockKey(ctx context.Context, pemBytes []byte, file string, ask *prompter) ([]byte, error) {
	pass, err := ask.secret(ctx, "Passphrase for "+file)
	if err != nil {
		return nil, err
	}
	raw, err := ssh.ParseRawPrivateKeyWithPassphrase(pemBytes, pass)
	clear(pass)
	if err != nil {
		return nil, fmt.Errorf("unlocking %s: %w", file, err)
	}
	block, err := ssh.MarshalPrivateKey(raw, "")
	if err != nil {
		return nil, fmt.Errorf("re-reading %s: %w", file, err)
	}
	return pem.EncodeToMemory(block), nil
}
