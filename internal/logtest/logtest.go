// Package logtest holds a log sink for tests that assert on what a server
// logged. It is imported only by _test.go files.
package logtest

import (
	"bufio"
	"bytes"
	"strings"
	"sync"
)

// Buffer collects a server's log lines for assertions; the server may
// write to it from several goroutines while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it is the io.Writer a slog handler writes to.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Lines returns the lines written so far that contain substr.
func (l *Buffer) Lines(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			out = append(out, sc.Text())
		}
	}
	return out
}
