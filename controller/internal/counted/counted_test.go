package counted_test

import (
	"testing"

	"github.com/jitops/jit/controller/internal/counted"
)

func TestN(t *testing.T) {
	tests := map[string]struct {
		n    int
		want string
	}{
		"zero is plural": {0, "0 actions"},
		"one":            {1, "1 action"},
		"two":            {2, "2 actions"},
		"minus one":      {-1, "-1 action"},
		"many":           {1000, "1000 actions"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := counted.N(tc.n, "action", "actions"); got != tc.want {
				t.Errorf("N(%d) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
	if got := counted.Noun(1, "anomaly", "anomalies"); got != "anomaly" {
		t.Errorf("Noun(1) = %q", got)
	}
	if got := counted.Noun(3, "anomaly", "anomalies"); got != "anomalies" {
		t.Errorf("Noun(3) = %q", got)
	}
}
