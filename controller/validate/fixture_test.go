package validate_test

import "github.com/jitops/jit/controller/internal/changetest"

// The fixture repository's files (see package changetest).
var (
	governing    = changetest.Governing
	tree         = changetest.Tree
	mapFS        = changetest.MapFS
	prodGrant    = changetest.ProdGrant
	stagingGrant = changetest.StagingGrant
)
