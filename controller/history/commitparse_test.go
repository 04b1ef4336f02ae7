package history

import (
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
)

// goGitCommit decodes data with go-git's object decoder, as history did
// before it had its own, into the same plain values.
func goGitCommit(h plumbing.Hash, data []byte) (Commit, error) {
	obj := &rawObject{t: plumbing.CommitObject, h: h, data: data}
	oc, err := object.DecodeCommit(memory.NewStorage(), obj)
	if err != nil {
		return Commit{}, err
	}
	c := Commit{
		Hash:      oc.Hash.String(),
		Tree:      oc.TreeHash.String(),
		Author:    Signature{Name: oc.Author.Name, Email: oc.Author.Email, When: oc.Author.When},
		Committer: Signature{Name: oc.Committer.Name, Email: oc.Committer.Email, When: oc.Committer.When},
		Message:   oc.Message,
	}
	for _, p := range oc.ParentHashes {
		c.Parents = append(c.Parents, p.String())
	}
	return c, nil
}

// sameCommit compares two decoded commits, times by instant and zone
// offset (cmp compares times with Equal, which ignores the zone).
func sameCommit(t *testing.T, got, want Commit) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("decoded commit differs from go-git's (-go-git +history):\n%s", d)
	}
	for _, p := range [][2]time.Time{{got.Author.When, want.Author.When}, {got.Committer.When, want.Committer.When}} {
		_, g := p[0].Zone()
		_, w := p[1].Zone()
		if g != w || p[0].IsZero() != p[1].IsZero() {
			t.Errorf("time %v (zone offset %d), go-git's %v (zone offset %d)", p[0], g, p[1], w)
		}
	}
}

const (
	treeHex    = "4b825dc642cb6eb9a060e54bf8d69288fbe4904a"
	parentHex1 = "1111111111111111111111111111111111111111"
	parentHex2 = "2222222222222222222222222222222222222222"
)

var commitSeeds = []string{
	"tree " + treeHex + "\nparent " + parentHex1 + "\nauthor A U Thor <a@example.com> 1767600000 +0100\ncommitter C O Mitter <c@example.com> 1767603600 -0230\n\nsubject\n\nbody\n\nJit-Event: activated\n",
	"tree " + treeHex + "\nparent " + parentHex1 + "\nparent " + parentHex2 + "\nauthor a <a> 1 +0000\ncommitter c <c> 2 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nmerge\n",
	"tree " + treeHex + "\n",
	"tree " + treeHex,
	"tree " + strings.ToUpper(treeHex) + "\nparent " + strings.ToUpper(parentHex1) + "\n\n",
	"tree " + treeHex + "\ncommitter c <c> 5 +0100\nauthor a <a> 4 +0100\n\nm",
	"tree " + treeHex + "\nencoding latin1\nparent " + parentHex1 + "\nauthor a <a> 3\n\n",
	"tree " + treeHex + "\nauthor a <a> x +0100\ncommitter c c> 7 -0000\n\n",
	"tree " + treeHex + "\nauthor <a> 9 +01\ncommitter  c  <c> 10 -0130 extra\nparent " + parentHex1 + "\n\n\n\n",
	"tree " + treeHex + "\nparent 123\n\n",
	"parent " + parentHex1 + "\ntree " + treeHex + "\n\n",
	"\ntree " + treeHex + "\n",
	"",
	"tree " + treeHex + "\r\n\r\n",
	"tree " + treeHex + "\nmergetag object x\n type commit\n\nmsg",
	"tree " + treeHex + "\nauthor\ncommitter\n \n\nm\n",
	"tree " + treeHex + "\nparent " + parentHex1 + "\nauthor a <a> 1 +0000",
	"tree " + treeHex + "\nparent " + parentHex1 + "\nauthor a <a> 1 +0000\ncommitter c <c> 2 +0000",
}

// FuzzParseCommit holds history's commit decoder to go-git's: for any
// bytes, both reject them or both read the same tree, parents, author,
// committer and message; and the walks' committer time is the decoded one.
func FuzzParseCommit(f *testing.F) {
	for _, s := range commitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := plumbing.NewHash(parentHex2)
		want, wantErr := goGitCommit(h, data)
		got, err := decodeCommit(h, data)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("error %v; go-git's %v", err, wantErr)
		}
		if err != nil {
			return
		}
		sameCommit(t, got, want)
		f, _ := parseCommitFields(data)
		if when, w := unixTime(f.committer), want.Committer.When; w.IsZero() && when != 0 || !w.IsZero() && when != w.Unix() {
			t.Errorf("unixTime = %d; go-git's committer time is %v", when, w)
		}
	})
}

// TestParseCommitSeeds runs the fuzz seeds with their expected errors
// checked by message, so that a rejected commit says what is wrong.
func TestParseCommitSeeds(t *testing.T) {
	for name, tc := range map[string]struct {
		data, err string
	}{
		"missing tree":     {"", "malformed commit: missing tree header"},
		"blank first line": {"\ntree " + treeHex + "\n", "malformed commit: missing tree header"},
		"parent first":     {"parent " + parentHex1 + "\ntree " + treeHex + "\n", "malformed commit: tree header must be first"},
		"bad tree":         {"tree xyz\n", "malformed commit: bad tree hash"},
		"bad parent":       {"tree " + treeHex + "\nparent 123\n\n", "malformed commit: bad parent hash"},
	} {
		t.Run(name, func(t *testing.T) {
			h := plumbing.NewHash(parentHex2)
			_, err := decodeCommit(h, []byte(tc.data))
			want := "reading commit " + parentHex2[:12] + ": " + tc.err
			if err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
	for i, s := range commitSeeds {
		h := plumbing.NewHash(parentHex2)
		want, wantErr := goGitCommit(h, []byte(s))
		got, err := decodeCommit(h, []byte(s))
		if (err == nil) != (wantErr == nil) {
			t.Errorf("seed %d: error %v; go-git's %v", i, err, wantErr)
			continue
		}
		if err == nil {
			sameCommit(t, got, want)
		}
	}
}

// TestParseCommitFields checks what the walks rely on in a commit with
// headers out of their places: only contiguous parents count, and the
// committer only at its place.
func TestParseCommitFields(t *testing.T) {
	data := []byte("tree " + treeHex + "\nparent " + parentHex1 + "\nauthor a <a> 1 +0000\nparent " + parentHex2 + "\ncommitter c <c> 2 +0000\n\nmsg\n")
	f, err := parseCommitFields(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.parents) != 1 || f.parents[0].String() != parentHex1 {
		t.Errorf("parents = %v, want only %s (a parent header after the author is not a parent)", f.parents, parentHex1)
	}
	if f.committer != nil || unixTime(f.committer) != 0 {
		t.Errorf("committer = %q, want none (it is not right after the author)", f.committer)
	}
	if got := string(data[f.message:]); got != "msg\n" {
		t.Errorf("message = %q, want %q", got, "msg\n")
	}
}

func TestHexString(t *testing.T) {
	for _, s := range []string{treeHex, parentHex1, "0123456789abcdef0123456789abcdef01234567", "0000000000000000000000000000000000000000"} {
		if got := hexString(plumbing.NewHash(s)); got != s {
			t.Errorf("hexString(%s) = %s", s, got)
		}
	}
}
