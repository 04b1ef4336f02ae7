package grant

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var durationSyntax = regexp.MustCompile(`^(?:([0-9]{1,4})h)?(?:([0-9]{1,5})m)?$`)

// ParseDuration parses a grant or policy duration such as "2h", "90m" or "1h30m".
// Only hours and minutes are accepted, at least one minute and at most 366
// days, so that a duration means the same to every reader.
func ParseDuration(s string) (time.Duration, error) {
	m := durationSyntax.FindStringSubmatch(s)
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return 0, fmt.Errorf("duration %q has no unit; units are required: write hours or minutes such as 2h, 90m or 1h30m", s)
	}
	if s == "" || m == nil {
		return 0, fmt.Errorf("duration %q is not a duration; write hours and minutes such as 2h, 90m or 1h30m", s)
	}
	h, _ := strconv.Atoi("0" + m[1])
	min, _ := strconv.Atoi("0" + m[2])
	d := time.Duration(h)*time.Hour + time.Duration(min)*time.Minute
	if d < time.Minute {
		return 0, fmt.Errorf("duration %q is zero; ask for at least 1m", s)
	}
	if d > 366*24*time.Hour {
		return 0, fmt.Errorf("duration %q is longer than a year", s)
	}
	return d, nil
}

// FormatDuration writes d the way ParseDuration reads it ("2h", "1h30m", "45m").
func FormatDuration(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dm", m)
}
