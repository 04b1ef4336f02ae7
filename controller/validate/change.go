package validate

import (
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/history"
)

// ChangeInput names the pull request to validate.
type ChangeInput struct {
	Repo *history.Repo
	// Base is the revision the pull request targets, Head its head.
	Base, Head string
	// DefaultBranch is the default branch's name ("main"). CODEOWNERS,
	// policies, templates, .gitattributes and the grant ids that ever
	// existed are read from its tip.
	DefaultBranch string
	// DefaultTip is the revision of the default branch's tip; empty means
	// the local branch DefaultBranch, or else origin/DefaultBranch.
	DefaultTip string
	// BaseRef is the name of the branch the pull request targets ("main"
	// or "refs/heads/main"), as GitHub reports it. When empty, a pull
	// request changing access/ is valid only if Base is the default branch's
	// tip or one of its ancestors.
	BaseRef string
	// Author is the pull request author's login: every added or extended
	// grant's requester must be it. Required.
	Author string
}

// Change validates the change a pull request makes, the diff from the merge
// base of Base and Head to Head, judged by the default branch (see
// change.Classify). The error is for what stops validation itself (an
// unknown revision, a missing author); everything wrong with the change is a
// problem in the Report.
func Change(ctx context.Context, in ChangeInput) (Report, error) {
	if in.Author == "" {
		return Report{}, errors.New("the pull request author is required: requesters are checked against it")
	}
	if in.DefaultBranch == "" {
		return Report{}, errors.New("the default branch is required: governing files are read from it")
	}
	r := in.Repo
	base, err := r.Resolve(in.Base)
	if err != nil {
		return Report{}, err
	}
	head, err := r.Resolve(in.Head)
	if err != nil {
		return Report{}, err
	}
	tip, err := DefaultTip(r, in.DefaultBranch, in.DefaultTip)
	if err != nil {
		return Report{}, err
	}
	mergeBase, err := r.MergeBase(ctx, base, head)
	if err != nil {
		return Report{}, err
	}
	changes, err := r.Changes(ctx, mergeBase, head)
	if err != nil {
		return Report{}, err
	}
	snap := change.Snapshot{Author: in.Author, DefaultBranch: in.DefaultBranch, BaseRef: in.BaseRef}
	access, added := false, false
	for _, c := range changes {
		f, err := file(r, c)
		if err != nil {
			return Report{}, err
		}
		snap.Files = append(snap.Files, f)
		if change.IsAccess(c.Path) {
			access = true
			added = added || c.Action == history.Added
		}
	}
	if snap.Default, err = r.FS(tip); err != nil {
		return Report{}, err
	}
	if snap.Head, err = r.FS(head); err != nil {
		return Report{}, err
	}
	if access {
		snap.Ever = map[string]change.Appearance{}
		if added {
			ever, err := r.EverExisted(ctx, tip)
			if err != nil {
				return Report{}, err
			}
			for id, a := range ever {
				snap.Ever[id] = change.Appearance{Commit: a.Commit, When: a.When}
			}
		}
		if in.BaseRef == "" {
			if snap.BaseOnDefault, err = r.IsAncestor(ctx, base, tip); err != nil {
				return Report{}, err
			}
		}
	}
	res := change.Classify(snap)
	rep := newReport(res.Change.Problems, res.Summaries)
	rep.Change = res.Change
	rep.Checked = Checked{GrantFiles: res.GrantFiles, Policies: res.Policies, Templates: res.Templates,
		MergeBase: mergeBase, Head: head, DefaultTip: tip}
	return rep, nil
}

// DefaultTip resolves the default branch's tip: rev when given, else the
// local branch name, else origin's.
func DefaultTip(r *history.Repo, name, rev string) (string, error) {
	if rev != "" {
		return r.Resolve(rev)
	}
	for _, ref := range []string{"refs/heads/" + name, "refs/remotes/origin/" + name} {
		if h, err := r.Resolve(ref); err == nil {
			return h, nil
		}
	}
	return "", fmt.Errorf("default branch %s: neither refs/heads/%s nor refs/remotes/origin/%s exists; fetch it, or name the default branch", name, name, name)
}

// file gathers one changed path: contents are read only where
// change.Classify reads them (grant files and .gitattributes), and only up
// to change.MaxRead bytes.
func file(r *history.Repo, c history.Change) (change.File, error) {
	f := change.File{Path: c.Path}
	switch c.Action {
	case history.Added:
		f.Action = change.Added
	case history.Modified:
		f.Action = change.Modified
	default:
		f.Action = change.Deleted
	}
	read := change.IsAccess(c.Path) || path.Base(c.Path) == ".gitattributes"
	var err error
	if f.Old, err = blob(r, c.From, read); err != nil {
		return f, err
	}
	f.New, err = blob(r, c.To, read)
	return f, err
}

func blob(r *history.Repo, e history.Entry, read bool) (change.Blob, error) {
	if e.Mode == history.ModeNone {
		return change.Blob{}, nil
	}
	b := change.Blob{Exists: true, Symlink: e.Mode == history.ModeSymlink, Special: !e.Mode.IsFile() && e.Mode != history.ModeSymlink}
	if !read || b.Special {
		return b, nil
	}
	data, size, err := r.ReadBlob(e.Blob, change.MaxRead)
	if err != nil {
		return b, err
	}
	b.Data, b.Size = data, size
	return b, nil
}
