package audit_test

import "syscall"

// peakRSS is the process's peak resident memory in MB (ru_maxrss, in KiB on
// Linux).
func peakRSS() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Maxrss) / 1024, true
}
