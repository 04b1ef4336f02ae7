package request

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/jitops/jit/controller/grant"
)

// ignoredFiles may sit anywhere under access/ without being grants.
var ignoredFiles = map[string]bool{"README.md": true, ".gitkeep": true, ".keep": true}

// Load parses every grant file under access/ in fsys, which is rooted at the
// repository's top level. Requests are returned in path order. Files that
// cannot be grants (symlinks, wrong extension, bad names, oversized files)
// are problems, never silently skipped. A missing access/ directory means no
// grants.
func Load(fsys fs.FS) ([]grant.Request, []grant.Problem) {
	return load(fsys, false)
}

// LoadLenient is Load for reports: it also returns, among the requests, the
// files that decoded but have problems, as ParseLenient returns them (their
// Invalid set is non-nil). Such requests must never be provisioned or
// approved.
func LoadLenient(fsys fs.FS) ([]grant.Request, []grant.Problem) {
	return load(fsys, true)
}

func load(fsys fs.FS, lenient bool) ([]grant.Request, []grant.Problem) {
	var reqs []grant.Request
	var problems []grant.Problem
	err := fs.WalkDir(fsys, Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == Dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			problems = append(problems, grant.Problem{File: p, Message: fmt.Sprintf("reading: %v", err)})
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			problems = append(problems, grant.Problem{File: p, Line: 1, Column: 1, Message: "symbolic links are not allowed under access/; commit the grant file itself"})
			return nil
		}
		if d.IsDir() {
			if p != Dir && (strings.HasPrefix(d.Name(), ".") || strings.Contains(d.Name(), " ")) {
				problems = append(problems, grant.Problem{File: p, Line: 1, Column: 1, Message: "directory names under access/ may not start with '.' or contain spaces"})
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			problems = append(problems, grant.Problem{File: p, Line: 1, Column: 1, Message: "only regular files may live under access/"})
			return nil
		}
		if ignoredFiles[d.Name()] {
			return nil
		}
		r, ps := loadFile(fsys, p, lenient)
		problems = append(problems, ps...)
		if len(ps) == 0 || (lenient && r.File != "") {
			reqs = append(reqs, r)
		}
		return nil
	})
	if err != nil {
		problems = append(problems, grant.Problem{File: Dir, Message: fmt.Sprintf("reading: %v", err)})
	}
	grant.SortProblems(problems)
	return reqs, problems
}

// LoadFile reads and parses one grant file from fsys, refusing files larger
// than MaxFileSize before reading them.
func LoadFile(fsys fs.FS, p string) (grant.Request, []grant.Problem) {
	return loadFile(fsys, p, false)
}

func loadFile(fsys fs.FS, p string, lenient bool) (grant.Request, []grant.Problem) {
	if _, msg := IDFromPath(p); msg != "" {
		return grant.Request{}, []grant.Problem{{File: p, Line: 1, Column: 1, Message: msg}}
	}
	info, err := fs.Stat(fsys, p)
	if err != nil {
		return grant.Request{}, []grant.Problem{{File: p, Message: fmt.Sprintf("reading: %v", err)}}
	}
	if info.Size() > MaxFileSize {
		return grant.Request{}, []grant.Problem{{File: p, Line: 1, Column: 1,
			Message: fmt.Sprintf("file is %d bytes; grant files may be at most %d bytes (64 KiB)", info.Size(), MaxFileSize)}}
	}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return grant.Request{}, []grant.Problem{{File: p, Message: fmt.Sprintf("reading: %v", err)}}
	}
	if lenient {
		return ParseLenient(path.Clean(p), data)
	}
	return Parse(path.Clean(p), data)
}
