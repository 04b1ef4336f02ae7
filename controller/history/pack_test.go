package history_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/jitops/jit/controller/history"
)

// TestPackReaderMatchesGoGit reads every object of repositories packed by
// git (offset deltas, and reference deltas) through history's pack reader
// and checks each against go-git's reading.
func TestPackReaderMatchesGoGit(t *testing.T) {
	for _, offsetDeltas := range []string{"true", "false"} {
		t.Run("useDeltaBaseOffset="+offsetDeltas, func(t *testing.T) {
			dir := gitRepo(t)
			runGit(t, dir, nil, "init", "-q", "-b", "main")
			for i := 0; i < 25; i++ {
				var b strings.Builder
				for j := 0; j < 200; j++ {
					fmt.Fprintf(&b, "line %d of the file, revision %d\n", j, i*(j%7))
				}
				writeFile(t, dir, fmt.Sprintf("access/team-%d/grant.yaml", i%5), b.String())
				writeFile(t, dir, "big.txt", strings.Repeat(b.String(), 2+i%3))
				runGit(t, dir, nil, "add", "-A")
				runGit(t, dir, nil, "commit", "-q", "-m", fmt.Sprintf("revision %d", i))
			}
			runGit(t, dir, nil, "-c", "repack.useDeltaBaseOffset="+offsetDeltas, "repack", "-adfq", "--depth=50", "--window=50")
			plain, err := git.PlainOpen(dir)
			if err != nil {
				t.Fatal(err)
			}
			h, err := history.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if n := history.PackCount(h); n != 1 {
				t.Fatalf("the pack reader mapped %d packs, want 1", n)
			}
			iter, err := plain.Storer.IterEncodedObjects(plumbing.AnyObject)
			if err != nil {
				t.Fatal(err)
			}
			n, deltas := 0, 0
			err = iter.ForEach(func(want plumbing.EncodedObject) error {
				n++
				got, isDelta, err := history.ReadPacked(h, want.Hash())
				if err != nil {
					return fmt.Errorf("%s: %w", want.Hash(), err)
				}
				if isDelta {
					deltas++
				}
				rd, _ := want.Reader()
				data, _ := io.ReadAll(rd)
				if got.Type() != want.Type() || !bytes.Equal(content(t, got), data) || got.Size() != int64(len(data)) {
					return fmt.Errorf("%s: pack reader gives %s of %d bytes, go-git %s of %d", want.Hash(), got.Type(), got.Size(), want.Type(), len(data))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n < 75 || deltas < 20 {
				t.Errorf("read %d objects of which %d deltas; the repository should exercise deltas", n, deltas)
			}
		})
	}
}

func content(t *testing.T, o plumbing.EncodedObject) []byte {
	t.Helper()
	rd, err := o.Reader()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
