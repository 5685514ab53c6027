// Package ratelog bounds how many log lines one recurring condition writes:
// during a database outage every request fails the same way, and one line
// per request (tens of thousands a second) buries everything else. A
// Limiter lets a few lines through per window and counts the rest, so the
// next line that passes can say how many were suppressed.
package ratelog

import (
	"sync"
	"time"
)

// Limiter passes at most Burst lines per Every for each class of event
// (e.g. an error code). The classes must come from a fixed, small set
// chosen by the program, never from client input. The zero value passes
// one line per second per class.
type Limiter struct {
	Every time.Duration
	Burst int
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start      time.Time
	passed     int
	suppressed int
}

// Allow reports whether a line of class may be written now; when it may,
// suppressed is how many lines of the class were held back since the last
// one that passed.
func (l *Limiter) Allow(class string) (ok bool, suppressed int) {
	every, burst, now := l.Every, l.Burst, time.Now
	if every <= 0 {
		every = time.Second
	}
	if burst <= 0 {
		burst = 1
	}
	if l.Now != nil {
		now = l.Now
	}
	t := now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.windows == nil {
		l.windows = map[string]*window{}
	}
	w := l.windows[class]
	if w == nil {
		w = &window{start: t}
		l.windows[class] = w
	}
	if t.Sub(w.start) >= every {
		w.start, w.passed = t, 0
	}
	if w.passed >= burst {
		w.suppressed++
		return false, 0
	}
	w.passed++
	suppressed, w.suppressed = w.suppressed, 0
	return true, suppressed
}
