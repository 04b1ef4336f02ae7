package terraform

import (
	"bytes"
	"log/slog"
	"sync"
)

// lineLog is an io.Writer that logs each complete line at debug level and
// remembers the lines. A lineLog without a logger discards what it is
// written: nothing logged, nothing kept.
type lineLog struct {
	mu    sync.Mutex
	log   *slog.Logger
	name  string
	buf   []byte
	lines []string
	tail  int
}

func newLineLog(log *slog.Logger, name string, tail int) *lineLog {
	return &lineLog{log: log, name: name, tail: tail}
}

func (l *lineLog) Write(p []byte) (int, error) {
	if l.log == nil {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.add(string(bytes.TrimRight(l.buf[:i], "\r")))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLog) add(s string) {
	if s == "" {
		return
	}
	l.log.Debug("terraform output", "stream", l.name, "line", s)
	l.lines = append(l.lines, s)
}

// Flush handles a last line without a newline.
func (l *lineLog) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.add(string(l.buf))
		l.buf = nil
	}
}

// Lines returns every line written.
func (l *lineLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Tail returns at most the last n lines written.
func (l *lineLog) Tail(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) > n {
		return append([]string(nil), l.lines[len(l.lines)-n:]...)
	}
	return append([]string(nil), l.lines...)
}
