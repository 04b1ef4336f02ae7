//go:build !linux

package audit_test

import "testing"

// peakRSS is not measured outside Linux.
func peakRSS() (float64, bool) { return 0, false }

// childRSS is not measured outside Linux.
func childRSS(*testing.B, string, string) (float64, bool) { return 0, false }
