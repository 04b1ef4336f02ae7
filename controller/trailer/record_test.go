package trailer_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/trailer"
)

var fixedNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// wantMalformed fails t unless err matches ErrMalformed and contains substr;
// accepted is what was accepted, for the message.
func wantMalformed(t *testing.T, err error, substr string, accepted any) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted: %+v", accepted)
	}
	if !errors.Is(err, trailer.ErrMalformed) || !strings.Contains(err.Error(), substr) {
		t.Errorf("error %q does not match ErrMalformed or contain %q", err, substr)
	}
}

func fullDecision() trailer.Decision {
	return trailer.Decision{
		Grants:      []string{"prod/db/alice-inc-1234", "prod/db/alice-inc-1235"},
		RequestedBy: []string{"alice"},
		ApprovedBy:  []string{"bob", "carol"},
		EligibleVia: []trailer.Via{{Login: "bob", Owner: "@acme/dba"}, {Login: "carol", Owner: "@carol"}, {Login: "carol", Owner: "carol@example.com"}},
		Policies:    []string{"prod-db", "all"},
		Duration:    90 * time.Minute,
		ExpiresAt:   fixedNow.Add(90 * time.Minute),
		PullRequest: 12,
		Head:        sha1,
		BreakGlass:  true,
	}
}

func TestDecisionTrailers(t *testing.T) {
	ts, err := fullDecision().Trailers()
	if err != nil {
		t.Fatal(err)
	}
	want := `Jit-Grant: prod/db/alice-inc-1234
Jit-Grant: prod/db/alice-inc-1235
Jit-Requested-By: alice
Jit-Approved-By: bob
Jit-Approved-By: carol
Jit-Eligible-Via: bob @acme/dba
Jit-Eligible-Via: carol @carol
Jit-Eligible-Via: carol carol@example.com
Jit-Policy: prod-db
Jit-Policy: all
Jit-Duration: 1h30m
Jit-Expires-At: 2024-05-01T13:30:00Z
Jit-Pull-Request: 12
Jit-Head: 0123456789abcdef0123456789abcdef01234567
Jit-Break-Glass: true
`
	if got := trailer.Format(ts); got != want {
		t.Errorf("Format(Trailers()) =\n%s\nwant\n%s", got, want)
	}
	back, err := trailer.DecisionFrom(ts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fullDecision(), back); diff != "" {
		t.Errorf("DecisionFrom(Trailers()) (-want +got):\n%s", diff)
	}
}

func TestDecisionRoundTripVariants(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*trailer.Decision)
	}{
		{"minimal", func(d *trailer.Decision) {
			d.Grants, d.ApprovedBy, d.EligibleVia, d.Policies = d.Grants[:1], d.ApprovedBy[:1], d.EligibleVia[:1], d.Policies[:1]
			d.BreakGlass = false
		}},
		{"break-glass without approval", func(d *trailer.Decision) { d.ApprovedBy, d.EligibleVia = nil, nil }},
		{"expiry in another zone is written in UTC", func(d *trailer.Decision) {
			d.ExpiresAt = d.ExpiresAt.In(time.FixedZone("CEST", 2*3600))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := fullDecision()
			tc.edit(&d)
			ts, err := d.Trailers()
			if err != nil {
				t.Fatal(err)
			}
			back, err := trailer.DecisionFrom(ts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(d, back, cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if back.ExpiresAt.Location() != time.UTC {
				t.Errorf("ExpiresAt read in %v, want UTC", back.ExpiresAt.Location())
			}
		})
	}
}

func TestDecisionTrailersRejects(t *testing.T) {
	for _, tc := range []struct {
		name, substr string
		edit         func(*trailer.Decision)
	}{
		{"no grants", "no Jit-Grant", func(d *trailer.Decision) { d.Grants = nil }},
		{"bad grant id", `Jit-Grant "Prod/DB": not a grant id`, func(d *trailer.Decision) { d.Grants = []string{"Prod/DB"} }},
		{"grant id with a newline", "control or formatting character U+000A", func(d *trailer.Decision) { d.Grants = []string{"a\nJit-Grant: b"} }},
		{"duplicate grant", `Jit-Grant "prod/db/alice-inc-1234" appears twice`, func(d *trailer.Decision) { d.Grants[1] = d.Grants[0] }},
		{"no requester", "no Jit-Requested-By", func(d *trailer.Decision) { d.RequestedBy = nil }},
		{"login shape", `Jit-Requested-By "al ice": not a GitHub login`, func(d *trailer.Decision) { d.RequestedBy = []string{"al ice"} }},
		{"login too long", "not a GitHub login", func(d *trailer.Decision) { d.RequestedBy = []string{strings.Repeat("a", 40)} }},
		{"duplicate approver differing in case", `Jit-Approved-By "Bob" appears twice`, func(d *trailer.Decision) { d.ApprovedBy = []string{"bob", "Bob"} }},
		{"self-approval", "Jit-Approved-By Alice is also a requester", func(d *trailer.Decision) {
			d.ApprovedBy = append(d.ApprovedBy, "Alice")
			d.EligibleVia = append(d.EligibleVia, trailer.Via{Login: "Alice", Owner: "@acme/dba"})
		}},
		{"no approval without break-glass", "no Jit-Approved-By; only a break-glass merge", func(d *trailer.Decision) {
			d.ApprovedBy, d.EligibleVia, d.BreakGlass = nil, nil, false
		}},
		{"approver without via", "approver carol has no Jit-Eligible-Via", func(d *trailer.Decision) { d.EligibleVia = d.EligibleVia[:1] }},
		{"via for a non-approver", "Jit-Eligible-Via names dave, who is not a Jit-Approved-By", func(d *trailer.Decision) {
			d.EligibleVia = append(d.EligibleVia, trailer.Via{Login: "dave", Owner: "@acme/dba"})
		}},
		{"via owner shape", `owner not a CODEOWNERS owner`, func(d *trailer.Decision) { d.EligibleVia[0].Owner = "acme/dba" }},
		{"via owner with a space", "owner not a CODEOWNERS owner", func(d *trailer.Decision) { d.EligibleVia[0].Owner = "@acme/dba extra" }},
		{"no policy", "no Jit-Policy", func(d *trailer.Decision) { d.Policies = nil }},
		{"policy name", `Jit-Policy "Prod DB": not a policy name`, func(d *trailer.Decision) { d.Policies = []string{"Prod DB"} }},
		{"no duration", "no Jit-Duration", func(d *trailer.Decision) { d.Duration = 0 }},
		{"negative duration", `Jit-Duration "0m": duration "0m" is zero`, func(d *trailer.Decision) { d.Duration = -time.Hour }},
		{"duration with seconds", "Jit-Duration 1h0m30s is not whole minutes", func(d *trailer.Decision) { d.Duration = time.Hour + 30*time.Second }},
		{"duration over a year", "longer than a year", func(d *trailer.Decision) { d.Duration = 400 * 24 * time.Hour }},
		{"no expiry", "no Jit-Expires-At", func(d *trailer.Decision) { d.ExpiresAt = time.Time{} }},
		{"sub-second expiry", "has a fraction of a second; truncate it", func(d *trailer.Decision) { d.ExpiresAt = d.ExpiresAt.Add(time.Millisecond) }},
		{"expiry after year 9999", "not an RFC 3339 UTC time", func(d *trailer.Decision) { d.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"no pull request", "no Jit-Pull-Request", func(d *trailer.Decision) { d.PullRequest = 0 }},
		{"negative pull request", `Jit-Pull-Request "-1": not a pull request number`, func(d *trailer.Decision) { d.PullRequest = -1 }},
		{"no head", "no Jit-Head", func(d *trailer.Decision) { d.Head = "" }},
		{"upper-case head", "not a full commit SHA", func(d *trailer.Decision) { d.Head = strings.ToUpper(sha1) }},
		{"short head", "not a full commit SHA", func(d *trailer.Decision) { d.Head = sha1[:12] }},
		{"every problem is listed", "no Jit-Pull-Request; no Jit-Head", func(d *trailer.Decision) { d.Head, d.PullRequest = "", 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := fullDecision()
			tc.edit(&d)
			ts, err := d.Trailers()
			wantMalformed(t, err, tc.substr, trailer.Format(ts))
		})
	}
}

func TestDecisionFromRejects(t *testing.T) {
	valid, err := fullDecision().Trailers()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func([]trailer.Trailer) []trailer.Trailer) []trailer.Trailer {
		return f(append([]trailer.Trailer(nil), valid...))
	}
	set := func(key, value string) []trailer.Trailer {
		return edit(func(ts []trailer.Trailer) []trailer.Trailer {
			for i := range ts {
				if ts[i].Key == key {
					ts[i].Value = value
					break
				}
			}
			return ts
		})
	}
	for _, tc := range []struct {
		name, substr string
		ts           []trailer.Trailer
	}{
		{"nothing", "no Jit-Grant", nil},
		{"event record", "a Jit-Event trailer makes this an event record", tr("Jit-Event", "revoked", "Jit-Grant", "a")},
		{"out of order", "trailer 3: Jit-Grant after Jit-Requested-By; the order is Jit-Grant, Jit-Requested-By", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			ts[1], ts[2] = ts[2], ts[1]
			return ts
		})},
		{"single key twice", "trailer 16: a second Jit-Head", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			return append(ts[:14:14], trailer.Trailer{Key: "Jit-Head", Value: sha1}, trailer.Trailer{Key: "Jit-Head", Value: sha2})
		})},
		{"event key", "trailer 16: Jit-Parent does not belong here", append(append([]trailer.Trailer(nil), valid...), trailer.Trailer{Key: "Jit-Parent", Value: sha1})},
		{"signature in the middle", "trailer 2: Jit-Signature does not belong here", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			return append(ts[:1:1], append([]trailer.Trailer{{Key: "Jit-Signature", Value: "x"}}, ts[1:]...)...)
		})},
		{"value with white space", "trailer 1: Jit-Grant: value ends with white space", set("Jit-Grant", "a ")},
		{"time with offset", "not an RFC 3339 UTC time", set("Jit-Expires-At", "2024-05-01T15:30:00+02:00")},
		{"time with fraction", "not an RFC 3339 UTC time", set("Jit-Expires-At", "2024-05-01T13:30:00.5Z")},
		{"time lower-case z", "not an RFC 3339 UTC time", set("Jit-Expires-At", "2024-05-01T13:30:00z")},
		{"zero time", "the zero time", set("Jit-Expires-At", "0001-01-01T00:00:00Z")},
		{"duration not canonical", `Jit-Duration "90m": write it 1h30m`, set("Jit-Duration", "90m")},
		{"duration with seconds", "not a duration", set("Jit-Duration", "1h30s")},
		{"pull request with leading zero", "not a pull request number", set("Jit-Pull-Request", "012")},
		{"pull request with plus", "not a pull request number", set("Jit-Pull-Request", "+12")},
		{"pull request reference", "not a pull request number", set("Jit-Pull-Request", "#12")},
		{"break-glass false", "write Jit-Break-Glass: true, or leave it out", set("Jit-Break-Glass", "false")},
		{"via without owner", `write "<login> <owner>"`, set("Jit-Eligible-Via", "bob")},
		{"via with two spaces", "owner not a CODEOWNERS owner", set("Jit-Eligible-Via", "bob  @acme/dba")},
		{"head of sha-256 length", "not a full commit SHA", set("Jit-Head", sha1+sha1[:24])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := trailer.DecisionFrom(tc.ts)
			wantMalformed(t, err, tc.substr, d)
		})
	}
}

func TestDecisionFromSkipsSignature(t *testing.T) {
	ts, err := fullDecision().Trailers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := trailer.DecisionFrom(append(ts, trailer.Trailer{Key: "Jit-Signature", Value: "QUJD"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fullDecision(), d); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    trailer.Event
		want string
	}{
		{"activated", trailer.Event{Kind: trailer.Activated, Grants: []string{"prod/db/alice"}, Resources: []string{"terraform_data.role", `terraform_data.grant["a b"]`}, ExpiresAt: fixedNow, Parent: sha2},
			"Jit-Event: activated\nJit-Grant: prod/db/alice\nJit-Resources: terraform_data.role\nJit-Resources: terraform_data.grant[\"a b\"]\nJit-Expires-At: 2024-05-01T12:00:00Z\nJit-Parent: " + sha2 + "\n"},
		{"activated with nothing changed", trailer.Event{Kind: trailer.Activated, Grants: []string{"a"}, ExpiresAt: fixedNow, Parent: sha2},
			"Jit-Event: activated\nJit-Grant: a\nJit-Expires-At: 2024-05-01T12:00:00Z\nJit-Parent: " + sha2 + "\n"},
		{"activation-failed", trailer.Event{Kind: trailer.ActivationFailed, Grants: []string{"a"}, ExpiresAt: fixedNow, Error: "terraform apply: exit status 1", Parent: sha2},
			"Jit-Event: activation-failed\nJit-Grant: a\nJit-Expires-At: 2024-05-01T12:00:00Z\nJit-Error: terraform apply: exit status 1\nJit-Parent: " + sha2 + "\n"},
		{"expire", trailer.Event{Kind: trailer.Expire, Grants: []string{"a", "b"}, Reason: trailer.ReasonExpired, Head: sha1},
			"Jit-Event: expire\nJit-Grant: a\nJit-Grant: b\nJit-Reason: expired\nJit-Head: " + sha1 + "\n"},
		{"early revocation", trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Reason: trailer.ReasonRevokedBy("alice"), Head: sha1},
			"Jit-Event: expire\nJit-Grant: a\nJit-Reason: revoked-by alice\nJit-Head: " + sha1 + "\n"},
		{"revoked", trailer.Event{Kind: trailer.Revoked, Grants: []string{"a"}, Resources: []string{"terraform_data.role"}, Parent: sha2},
			"Jit-Event: revoked\nJit-Grant: a\nJit-Resources: terraform_data.role\nJit-Parent: " + sha2 + "\n"},
		{"revoke-failed", trailer.Event{Kind: trailer.RevokeFailed, Grants: []string{"a"}, Error: "connection refused", Parent: sha2},
			"Jit-Event: revoke-failed\nJit-Grant: a\nJit-Error: connection refused\nJit-Parent: " + sha2 + "\n"},
		{"break-glass-reviewed", trailer.Event{Kind: trailer.BreakGlassReviewed, Grants: []string{"a"}, ReviewedBy: []string{"carol", "dave"}, Parent: sha2},
			"Jit-Event: break-glass-reviewed\nJit-Grant: a\nJit-Reviewed-By: carol\nJit-Reviewed-By: dave\nJit-Parent: " + sha2 + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := tc.e.Trailers()
			if err != nil {
				t.Fatal(err)
			}
			if got := trailer.Format(ts); got != tc.want {
				t.Errorf("Format(Trailers()) =\n%s\nwant\n%s", got, tc.want)
			}
			back, err := trailer.EventFrom(ts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.e, back); diff != "" {
				t.Errorf("EventFrom(Trailers()) (-want +got):\n%s", diff)
			}
			if !trailer.IsEvent(ts) {
				t.Error("IsEvent = false")
			}
		})
	}
}

func TestEventRejects(t *testing.T) {
	activated := trailer.Event{Kind: trailer.Activated, Grants: []string{"a"}, ExpiresAt: fixedNow, Parent: sha2}
	with := func(e trailer.Event, f func(*trailer.Event)) trailer.Event {
		f(&e)
		return e
	}
	for _, tc := range []struct {
		name, substr string
		e            trailer.Event
	}{
		{"no kind", "no Jit-Event", with(activated, func(e *trailer.Event) { e.Kind = "" })},
		{"unknown kind", `Jit-Event "granted": not an event jit records`, with(activated, func(e *trailer.Event) { e.Kind = "granted" })},
		{"no grant", "no Jit-Grant; activated events need one", with(activated, func(e *trailer.Event) { e.Grants = nil })},
		{"activated without expiry", "no Jit-Expires-At", with(activated, func(e *trailer.Event) { e.ExpiresAt = time.Time{} })},
		{"activated without parent", "no Jit-Parent", with(activated, func(e *trailer.Event) { e.Parent = "" })},
		{"activated with an error", "Jit-Error does not belong in activated events", with(activated, func(e *trailer.Event) { e.Error = "x" })},
		{"activated with a head", "Jit-Head does not belong in activated events", with(activated, func(e *trailer.Event) { e.Head = sha1 })},
		{"activation-failed without error", "no Jit-Error; activation-failed events need one", with(activated, func(e *trailer.Event) { e.Kind = trailer.ActivationFailed })},
		{"multi-line error", "control or formatting character U+000A", with(activated, func(e *trailer.Event) {
			e.Kind, e.Error = trailer.ActivationFailed, "Error: x\n\non main.tf line 1"
		})},
		{"error too long", "at most 500 (shorten it with OneLine)", with(activated, func(e *trailer.Event) {
			e.Kind, e.Error = trailer.ActivationFailed, strings.Repeat("x", 501)
		})},
		{"expire without reason", "no Jit-Reason", trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Head: sha1}},
		{"expire without head", "no Jit-Head", trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Reason: "expired"}},
		{"expire with parent", "Jit-Parent does not belong in expire events", trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Reason: "expired", Head: sha1, Parent: sha2}},
		{"expire with resources", "Jit-Resources does not belong", trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Reason: "expired", Head: sha1, Resources: []string{"x"}}},
		{"bad reason", `Jit-Reason "timeout": write expired or revoked-by LOGIN`, trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Reason: "timeout", Head: sha1}},
		{"revoked-by nobody", "Jit-Reason: value ends with white space", trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Reason: trailer.ReasonRevokedBy(""), Head: sha1}},
		{"revoked-by bad login", "write expired or revoked-by LOGIN", trailer.Event{Kind: trailer.Expire, Grants: []string{"a"}, Reason: trailer.ReasonRevokedBy("a b"), Head: sha1}},
		{"revoke-failed without error", "no Jit-Error", trailer.Event{Kind: trailer.RevokeFailed, Grants: []string{"a"}, Parent: sha2}},
		{"revoked with expiry", "Jit-Expires-At does not belong in revoked events", trailer.Event{Kind: trailer.Revoked, Grants: []string{"a"}, Parent: sha2, ExpiresAt: fixedNow}},
		{"review without reviewer", "no Jit-Reviewed-By", trailer.Event{Kind: trailer.BreakGlassReviewed, Grants: []string{"a"}, Parent: sha2}},
		{"reviewers repeated", `Jit-Reviewed-By "CAROL" appears twice`, trailer.Event{Kind: trailer.BreakGlassReviewed, Grants: []string{"a"}, ReviewedBy: []string{"carol", "CAROL"}, Parent: sha2}},
		{"duplicate resource", `Jit-Resources "x.y" appears twice`, with(activated, func(e *trailer.Event) { e.Resources = []string{"x.y", "x.y"} })},
		{"sub-second expiry", "fraction of a second", with(activated, func(e *trailer.Event) { e.ExpiresAt = fixedNow.Add(time.Nanosecond) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := tc.e.Trailers()
			wantMalformed(t, err, tc.substr, trailer.Format(ts))
		})
	}
}

func TestEventFromRejects(t *testing.T) {
	for _, tc := range []struct {
		name, substr string
		ts           []trailer.Trailer
	}{
		{"decision", "no Jit-Event", tr("Jit-Grant", "a", "Jit-Requested-By", "alice")},
		{"event not first", "trailer 2: Jit-Event after Jit-Grant", tr("Jit-Grant", "a", "Jit-Event", "revoked", "Jit-Parent", sha1)},
		{"two events", "trailer 2: a second Jit-Event", tr("Jit-Event", "revoked", "Jit-Event", "expire", "Jit-Grant", "a", "Jit-Parent", sha1)},
		{"grants split", "trailer 4: Jit-Grant after Jit-Resources", tr("Jit-Event", "revoked", "Jit-Grant", "a", "Jit-Resources", "x.y", "Jit-Grant", "b", "Jit-Parent", sha1)},
		{"decision key", "trailer 3: Jit-Approved-By does not belong here", tr("Jit-Event", "revoked", "Jit-Grant", "a", "Jit-Approved-By", "bob", "Jit-Parent", sha1)},
		{"upper-case parent", "not a full commit SHA", tr("Jit-Event", "revoked", "Jit-Grant", "a", "Jit-Parent", strings.ToUpper(sha1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := trailer.EventFrom(tc.ts)
			wantMalformed(t, err, tc.substr, e)
		})
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	for _, tc := range []struct {
		name, in, want string
	}{
		{"already one line", "exit status 1", "exit status 1"},
		{"terraform error", "\n╷\n│ Error: connection refused\n│ \n│   on main.tf line 3:\n╵\n", "╷ │ Error: connection refused │ │ on main.tf line 3: ╵"},
		{"control and format characters", "a\x00b\u202ec\r\nd\te", "a b c d e"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"nothing printable", " \n\t", ""},
		{"cut on a character boundary", long, strings.Repeat("é", 248) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := trailer.OneLine(tc.in)
			if got != tc.want {
				t.Errorf("OneLine = %q, want %q", got, tc.want)
			}
			if got == "" {
				return
			}
			e := trailer.Event{Kind: trailer.RevokeFailed, Grants: []string{"a"}, Error: got, Parent: sha1}
			if _, err := e.Trailers(); err != nil {
				t.Errorf("OneLine's result is not a valid Jit-Error: %v", err)
			}
		})
	}
}
