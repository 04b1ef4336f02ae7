package validate

import (
	"fmt"
	"io/fs"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/policy"
	"github.com/jitops/jit/controller/request"
)

// Tree lints every grant file in fsys (rooted at the repository) against
// fsys's own governing files. A tree with neither access/ nor policies/ is
// no access repository: that is a problem, never "valid". Every problem of a file is reported at once:
// a file whose YAML decodes is checked against its template and policies
// even when some of its fields are wrong (those fields are left out of the
// checks). Report.Grants lists only the grant files without problems of
// their own.
func Tree(fsys fs.FS) Report {
	if !isDir(fsys, request.Dir) && !isDir(fsys, policy.Dir) {
		return newReport([]grant.Problem{{File: request.Dir + "/", Message: fmt.Sprintf(
			"this is not an access repository: it has neither %s/ (grant files) nor %s/ (the policies that judge them); "+
				"run jit validate in a clone of the access repository, or name one with --repo DIR", request.Dir, policy.Dir)}}, nil)
	}
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
	rep := newReport(problems, grants)
	rep.Checked = Checked{GrantFiles: len(reqs), Policies: len(gov.Policies), Templates: len(gov.TemplateNames())}
	return rep
}

func isDir(fsys fs.FS, name string) bool {
	info, err := fs.Stat(fsys, name)
	return err == nil && info.IsDir()
}
