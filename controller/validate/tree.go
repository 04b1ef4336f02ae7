package validate

import (
	"io/fs"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/request"
)

// Tree lints every grant file in fsys (rooted at the repository) against
// fsys's own governing files. Every problem of a file is reported at once:
// a file whose YAML decodes is checked against its template and policies
// even when some of its fields are wrong (those fields are left out of the
// checks). Report.Grants lists only the grant files without problems of
// their own.
func Tree(fsys fs.FS) Report {
	gov := change.LoadGovernance(fsys)
	reqs, problems := request.LoadLenient(fsys)
	var grants []Grant
	for _, r := range reqs {
		g, ps := gov.Check(r)
		problems = append(problems, ps...)
		if r.Invalid == nil {
			grants = append(grants, g)
		}
	}
	problems = append(problems, gov.Problems...)
	return newReport(problems, grants)
}
