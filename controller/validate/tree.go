package validate

import (
	"io/fs"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/request"
)

// Tree lints every grant file in fsys (rooted at the repository) against
// fsys's own governing files.
func Tree(fsys fs.FS) Report {
	gov := change.LoadGovernance(fsys)
	reqs, problems := request.Load(fsys)
	var grants []Grant
	for _, r := range reqs {
		g, ps := gov.Check(r)
		grants = append(grants, g)
		problems = append(problems, ps...)
	}
	problems = append(problems, gov.Problems...)
	return newReport(problems, grants)
}
