package pgtest

import "os"

// StartDetached starts a cluster that nothing will clean up.
var StartDetached = start

// ReapStale runs the stale-cluster reaper again.
func ReapStale() {
	bin, _ := FindBinDir()
	runAs := ""
	if os.Geteuid() == 0 {
		runAs = "postgres"
	}
	reapStale(bin, runAs)
}
