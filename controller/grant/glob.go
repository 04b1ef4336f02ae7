package grant

import (
	"path"
	"strings"
)

// MatchGlob reports whether the slash-separated path name matches pattern.
// "*", "?" and "[...]" match within one segment as in path.Match; a "**"
// segment matches zero or more whole segments. A malformed pattern matches
// nothing (ValidGlob reports it).
func MatchGlob(pattern, name string) bool {
	// Segments are walked in place: this runs for every grant and every
	// policy path, so it does not allocate.
	for pattern != "" {
		var pseg string
		pseg, pattern, _ = strings.Cut(pattern, "/")
		if pseg == "**" {
			for strings.HasPrefix(pattern, "**/") || pattern == "**" {
				pattern = strings.TrimPrefix(strings.TrimPrefix(pattern, "**"), "/")
			}
			if pattern == "" {
				return true
			}
			for {
				if MatchGlob(pattern, name) {
					return true
				}
				i := strings.IndexByte(name, '/')
				if i < 0 {
					return false
				}
				name = name[i+1:]
			}
		}
		if name == "" {
			return false
		}
		var nseg string
		nseg, name, _ = strings.Cut(name, "/")
		if ok, err := path.Match(pseg, nseg); err != nil || !ok {
			return false
		}
	}
	return name == ""
}

// ValidGlob reports whether pattern is well formed for MatchGlob.
func ValidGlob(pattern string) bool {
	if pattern == "" || strings.HasPrefix(pattern, "/") || strings.HasSuffix(pattern, "/") {
		return false
	}
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		if seg != "**" && strings.Contains(seg, "**") {
			return false
		}
		if _, err := path.Match(seg, ""); err != nil {
			return false
		}
	}
	return true
}
