package request

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jitops/jit/controller/grant"
)

// Dir is the directory of the access repository that holds grant files.
const Dir = "access"

// Ext is the extension every grant file has.
const Ext = ".yaml"

// MaxIDLength bounds a grant id, in bytes.
const MaxIDLength = 200

var segmentPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// IDFromPath returns the grant id of a repository-relative grant file path
// ("access/prod/db/alice-inc-1234.yaml" → "prod/db/alice-inc-1234"), or a
// message saying why the path cannot hold a grant. Ids are lower case so that
// two ids never differ only in case (checkouts on case-insensitive file
// systems would merge them).
func IDFromPath(file string) (id string, problem string) {
	rest, ok := strings.CutPrefix(file, Dir+"/")
	if !ok {
		return "", fmt.Sprintf("grant files live under %s/; %s is outside it", Dir, file)
	}
	if strings.HasSuffix(rest, ".yml") {
		return "", fmt.Sprintf("grant files end in %s, not .yml; rename %s", Ext, file)
	}
	base, ok := strings.CutSuffix(rest, Ext)
	if !ok {
		return "", fmt.Sprintf("grant files end in %s; rename %s or move it out of %s/", Ext, file, Dir)
	}
	if len(base) > MaxIDLength {
		return "", fmt.Sprintf("grant id is %d bytes; at most %d are allowed", len(base), MaxIDLength)
	}
	for _, seg := range strings.Split(base, "/") {
		if seg == "" || strings.Contains(seg, "..") || !segmentPattern.MatchString(seg) || strings.HasSuffix(seg, ".") {
			return "", fmt.Sprintf("path segment %q is not allowed in a grant id: use lower-case letters, digits, '-', '_' and single dots, starting with a letter or digit", seg)
		}
	}
	return base, ""
}

// firstInvalidUTF8 returns the position of the first byte that is not valid UTF-8.
func firstInvalidUTF8(data []byte) (grant.Pos, bool) {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return grant.Pos{Line: line, Column: col}, true
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return grant.Pos{}, false
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlErrorPos extracts the line from a yaml.v3 error; the column is unknown.
func yamlErrorPos(err error) grant.Pos {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			return grant.Pos{Line: n}
		}
	}
	return grant.Pos{Line: 1, Column: 1}
}

// yamlErrorText strips yaml.v3's "yaml: line N: " prefix, which the problem's
// position already carries.
func yamlErrorText(err error) string {
	s := err.Error()
	if loc := yamlLine.FindStringIndex(s); loc != nil {
		return s[loc[1]:]
	}
	return strings.TrimPrefix(s, "yaml: ")
}
