// Command gen writes grant.schema.json, the JSON Schema of grant files,
// from the access repository at -root. It is run by
// `go generate ./controller/grantschema`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/jitops/jit/controller/grantschema"
)

func main() {
	root := flag.String("root", ".", "the repository's top-level directory (holding templates/)")
	out := flag.String("out", "grant.schema.json", "the file to write")
	flag.Parse()
	b, err := grantschema.Generate(os.DirFS(*root))
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}
