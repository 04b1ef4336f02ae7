package history

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// WithChecksum appends the checksum line to an index body, for tests that
// forge index files.
var WithChecksum = withChecksum

// PackCount is how many packs r's pack reader mapped.
func PackCount(r *Repo) int { return len(r.objs.packs) }

// ReadPacked reads h through the pack reader only, and says whether it was
// stored as a delta.
func ReadPacked(r *Repo, h plumbing.Hash) (plumbing.EncodedObject, bool, error) {
	for _, p := range r.objs.packs {
		if off, ok := p.find(h); ok {
			typ, _, _, err := p.header(off)
			if err != nil {
				return nil, false, err
			}
			obj, err := r.objs.EncodedObject(plumbing.AnyObject, h)
			if err != nil {
				return nil, false, err
			}
			size, err := r.objs.EncodedObjectSize(h)
			if err != nil || size != obj.Size() {
				return nil, false, fmt.Errorf("EncodedObjectSize = %d, %v; the object has %d bytes", size, err, obj.Size())
			}
			return obj, typ == objOfsDelta || typ == objRefDelta, nil
		}
	}
	return nil, false, errors.New("not in any pack")
}
