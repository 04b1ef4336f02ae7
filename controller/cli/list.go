package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/grant"
)

const listUsage = `usage: jit list [--mine] [--json] [--repo DIR] [--github-url URL] [--github-repo OWNER/NAME]

Lists the live grants at the default branch's tip, fetched from origin: those
whose merge carries a verified, signed controller decision (as jit apply
reads them) and whose expiry is still ahead, with requester, template,
scope, expiry and the time left. Grant files without a verified decision are
never listed as live. --mine keeps your own grants.
` + userEnvHelp

// listedGrant is one line of jit list, and its JSON form.
type listedGrant struct {
	ID          string         `json:"id"`
	Requester   string         `json:"requester"`
	Template    string         `json:"template"`
	Scope       map[string]any `json:"scope"`
	Target      string         `json:"target,omitempty"`
	ExpiresAt   time.Time      `json:"expires_at"`
	SecondsLeft int64          `json:"seconds_left"`
	PullRequest int            `json:"pull_request"`
}

func runList(ctx context.Context, o IO, args []string) int {
	const cmd = "jit list"
	fl, uf := newUserFlagSet(o, cmd, listUsage)
	mine := fl.Bool("mine", false, "only your own grants")
	asJSON := fl.Bool("json", false, "print a JSON array instead of a table")
	if code := parseFlags(fl, args); code >= 0 {
		return code
	}
	s, st, err := uf.openState(ctx)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitUsage
	}
	live := liveGrants(st.Grants, time.Now(), s.login, *mine)
	if *asJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(live); err != nil {
			fmt.Fprintf(o.Stderr, "%s: writing output: %v\n", cmd, err)
			return ExitUsage
		}
		if _, err := io.WriteString(o.Stdout, jsonPrintable(buf.String())); err != nil {
			fmt.Fprintf(o.Stderr, "%s: writing output: %v\n", cmd, err)
			return ExitUsage
		}
		return ExitOK
	}
	if len(live) == 0 {
		fmt.Fprintf(o.Stderr, "%s: no live grants at %s (%s)\n", cmd, quoteUnprintable(s.branch), short(s.tip))
		return ExitOK
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREQUESTER\tTEMPLATE\tSCOPE\tEXPIRES\tLEFT")
	for _, g := range live {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", quoteUnprintable(g.ID), quoteUnprintable(g.Requester), quoteUnprintable(g.Template),
			scopeSummary(g.Scope, "-"), g.ExpiresAt.Format(time.RFC3339), grant.FormatDuration(time.Duration(g.SecondsLeft)*time.Second))
	}
	tw.Flush()
	return ExitOK
}

// quoteUnprintable returns s as it is when every rune of it is printable
// valid UTF-8, and otherwise quoted and escaped as strconv.Quote does, so
// that a value from a grant file can neither drive the terminal (escape
// sequences) nor forge table cells or rows (tabs, newlines).
func quoteUnprintable(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// jsonPrintable escapes as \uXXXX every non-printable rune of enc, JSON
// written by encoding/json, other than the newlines and spaces of its
// indentation. encoding/json escapes only the C0 controls (and U+2028,
// U+2029); DEL, the C1 controls (U+009B starts an escape sequence on some
// terminals) and format characters such as U+202E pass through otherwise.
// Outside strings JSON holds only printable ASCII and that whitespace, so
// only string contents change, and they decode to the same values.
func jsonPrintable(enc string) string {
	var b strings.Builder
	for _, r := range enc {
		if r == '\n' || strconv.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
			continue
		}
		fmt.Fprintf(&b, "\\u%04x", r)
	}
	return b.String()
}

// openState opens the session and reads the verified desired state at the
// default branch's tip.
func (u *userFlags) openState(ctx context.Context) (*userSession, desired.State, error) {
	s, err := u.open(ctx)
	if err != nil {
		return nil, desired.State{}, err
	}
	h, err := s.history()
	if err != nil {
		return nil, desired.State{}, err
	}
	defer h.Close()
	st, err := desired.Read(ctx, desired.FromHistory(h), s.tip)
	if err != nil {
		return nil, desired.State{}, fmt.Errorf("reading the grants at %s (%s): %w", s.branch, short(s.tip), err)
	}
	return s, st, nil
}

// liveGrants are the grants not expired at now, only login's when mine,
// in id order, with the time left rounded down to the minute.
func liveGrants(gs []desired.Grant, now time.Time, login string, mine bool) []listedGrant {
	out := []listedGrant{}
	for _, g := range gs {
		if !now.Before(g.ExpiresAt) || (mine && !grant.SameLogin(g.Request.Requester, login)) {
			continue
		}
		scope := g.Request.Scope
		if scope == nil {
			scope = map[string]any{}
		}
		out = append(out, listedGrant{ID: g.Request.ID, Requester: g.Request.Requester, Template: g.Request.Template,
			Scope: scope, Target: g.Target, ExpiresAt: g.ExpiresAt.UTC(),
			SecondsLeft: int64(g.ExpiresAt.Sub(now).Truncate(time.Minute) / time.Second), PullRequest: g.PullRequest})
	}
	return out
}

// findGrant returns the verified grant id at the tip, or an error saying
// why it is not there.
func findGrant(st desired.State, id, branch string) (desired.Grant, error) {
	for _, g := range st.Grants {
		if g.Request.ID == id {
			return g, nil
		}
	}
	for _, a := range st.Anomalies {
		if a.Grant == id {
			return desired.Grant{}, fmt.Errorf("grant %s is on %s but not live: %s", id, branch, a)
		}
	}
	return desired.Grant{}, fmt.Errorf("no grant %s on %s: it is not merged yet, or it expired and was removed (jit list shows the live ones)", id, branch)
}
