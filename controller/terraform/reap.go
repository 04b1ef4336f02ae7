package terraform

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// runEnvVar marks every process of one terraform run (terraform and the
// provisioners it starts inherit it), so that processes left behind by a
// killed run can be found.
const runEnvVar = "JIT_TERRAFORM_RUN"

func newRunID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// reap kills the processes still carrying run id in their environment. When
// terraform is killed (its context ended and it did not stop in time), the
// provisioners it started keep running and could still change the target
// after jit has moved on, for example create a role after a later destroy.
// It works where /proc lists processes (Linux) and does nothing elsewhere.
func reap(id string, log *slog.Logger) {
	if id == "" {
		return
	}
	marker := []byte(runEnvVar + "=" + id)
	self := os.Getpid()
	// Two sweeps: a shell killed in the first may have started a child.
	for range 2 {
		dirs, err := filepath.Glob("/proc/[0-9]*")
		if err != nil || len(dirs) == 0 {
			return
		}
		killed := 0
		for _, d := range dirs {
			pid, err := strconv.Atoi(filepath.Base(d))
			if err != nil || pid == self {
				continue
			}
			env, err := os.ReadFile(filepath.Join(d, "environ"))
			if err != nil {
				continue
			}
			for _, kv := range bytes.Split(env, []byte{0}) {
				if bytes.Equal(kv, marker) {
					if syscall.Kill(pid, syscall.SIGKILL) == nil {
						killed++
					}
					break
				}
			}
		}
		if killed == 0 {
			return
		}
		log.Warn("killed processes left by an interrupted terraform run", "count", killed)
	}
}
