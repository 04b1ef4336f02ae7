package templatetest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/pgtest"
)

// BenchmarkTemplateApply measures the postgres-role template with real
// terraform (local state, an initialised working directory) against a real
// PostgreSQL: "apply" times terraform apply of a new grant, "destroy" times
// its terraform destroy; the other half of each cycle is untimed. This is the
// template's own cost, without the controller's.
func BenchmarkTemplateApply(b *testing.B) {
	c := pgtest.Shared(b)
	c.CreateDatabase(b, "bench")
	w := newWorkspace(b, c)
	i := 0
	next := func() grant {
		i++
		return newGrant(b, "bench", fmt.Sprintf("prod/db/bench-%d", i), time.Now().Add(time.Hour))
	}
	b.Run("apply", func(b *testing.B) {
		for b.Loop() {
			g := next()
			w.mustApply(b, g.vars)
			b.StopTimer()
			w.mustDestroy(b, g.vars)
			b.StartTimer()
		}
	})
	b.Run("destroy", func(b *testing.B) {
		for b.Loop() {
			g := next()
			b.StopTimer()
			w.mustApply(b, g.vars)
			b.StartTimer()
			w.mustDestroy(b, g.vars)
		}
	})
}
