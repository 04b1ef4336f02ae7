package audit

import (
	"runtime"
	"sync"

	"github.com/jitops/jit/controller/trailer"
)

// verifier checks the signatures of records on every core while the walk
// goes on: an ed25519 verification costs more than reading the commit, and
// records do not depend on one another.
type verifier struct {
	jobs chan verifyJob
	wg   sync.WaitGroup
}

type verifyJob struct {
	rec     *record
	signers trailer.AllowedSigners
	parent  string
}

func newVerifier() *verifier {
	v := &verifier{jobs: make(chan verifyJob, 256)}
	for range runtime.GOMAXPROCS(0) {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for j := range v.jobs {
				if err := trailer.Verify(j.rec.trailers, j.signers); err != nil {
					j.rec.reject(j.parent, err)
				}
			}
		}()
	}
	return v
}

// verify queues rec's signature for checking against signers (those of
// .github/jit-signers at parent); rec must not be read before wait.
func (v *verifier) verify(rec *record, signers trailer.AllowedSigners, parent string) {
	v.jobs <- verifyJob{rec: rec, signers: signers, parent: parent}
}

// wait returns once every queued record is verified; v takes no more.
func (v *verifier) wait() {
	close(v.jobs)
	v.wg.Wait()
}
