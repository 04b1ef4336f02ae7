package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/userapi"
)

// TestCredentialsCiphertextTrustsOnlyTheApp: only the credentials comments
// of the App that activated the grant count; a newer look-alike by
// github-actions[bot] (a workflow on a pushed branch), by another App or by
// a person is ignored, whatever it carries.
func TestCredentialsCiphertextTrustsOnlyTheApp(t *testing.T) {
	const id = "prod/orders/alice-inc-1"
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body := func(cipher string) string {
		return explain.Credentials(id, "alice", at.Add(2*time.Hour), ageBegin+"\n"+cipher+"\n"+ageEnd+"\n")
	}
	comment := func(author string, bot bool, minutes int, cipher string) userapi.Comment {
		return userapi.Comment{Author: author, Bot: bot, Body: body(cipher), CreatedAt: at.Add(time.Duration(minutes) * time.Minute)}
	}
	app := comment("jit[bot]", true, 1, "FROM-THE-APP")
	for _, tc := range []struct {
		name     string
		comments []userapi.Comment
		want     string // a substring of the ciphertext, or of the error
		wantErr  bool
	}{
		{name: "the app's own", comments: []userapi.Comment{app}, want: "FROM-THE-APP"},
		{name: "github-actions newer", comments: []userapi.Comment{app, comment("github-actions[bot]", true, 2, "FROM-A-WORKFLOW")}, want: "FROM-THE-APP"},
		{name: "another app newer", comments: []userapi.Comment{app, comment("evil[bot]", true, 2, "FROM-ANOTHER-APP")}, want: "FROM-THE-APP"},
		{name: "a person named like the bot", comments: []userapi.Comment{app, comment("jit[bot]", false, 2, "FROM-A-PERSON")}, want: "FROM-THE-APP"},
		{name: "the app's login in another case", comments: []userapi.Comment{comment("JIT[bot]", true, 3, "NEWER-FROM-THE-APP"), app}, want: "NEWER-FROM-THE-APP"},
		{name: "only other bots", comments: []userapi.Comment{comment("github-actions[bot]", true, 2, "FROM-A-WORKFLOW"), comment("bob", false, 3, "X")}, wantErr: true,
			want: "no credentials comment from jit[bot] yet: the grant may not be applied yet (wait a minute and try again), or its template issues no credentials (2 look-alike comments by others ignored)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := credentialsCiphertext(tc.comments, id, "jit[bot]")
			if tc.wantErr {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("ciphertext %q lacks %q", got, tc.want)
			}
		})
	}
}

// TestRecordBot: the App's login is the activation record's author, only
// when that is a "<slug>[bot]" account that also committed it.
func TestRecordBot(t *testing.T) {
	const hash = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name, author, committer, want, err string
	}{
		{name: "the app", author: "jit[bot]", committer: "jit[bot]", want: "jit[bot]"},
		{name: "a person", author: "bob", committer: "bob",
			err: `the signed activation record 0123456789ab of grant g is authored by "bob" and committed by "bob", not by one App's bot account ("<slug>[bot]"); ask the operators`},
		{name: "committed by another", author: "jit[bot]", committer: "github-actions[bot]",
			err: `the signed activation record 0123456789ab of grant g is authored by "jit[bot]" and committed by "github-actions[bot]", not by one App's bot account ("<slug>[bot]"); ask the operators`},
		{name: "no slug", author: "[bot]", committer: "[bot]",
			err: `the signed activation record 0123456789ab of grant g is authored by "[bot]" and committed by "[bot]", not by one App's bot account ("<slug>[bot]"); ask the operators`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := recordBot(history.Commit{Hash: hash, Author: history.Signature{Name: tc.author}, Committer: history.Signature{Name: tc.committer}}, "g")
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
