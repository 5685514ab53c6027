package dhcpd

import (
	"sync"
	"time"
)

// maxLimiterKeys bounds the memory a flood of made-up MAC addresses can take.
const maxLimiterKeys = 4096

// logLimiter allows one event per key per interval.
type logLimiter struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last map[string]time.Time
}

func newLogLimiter(every time.Duration, now func() time.Time) *logLimiter {
	return &logLimiter{every: every, now: now, last: make(map[string]time.Time)}
}

// allow reports whether an event for key may be logged now.
func (l *logLimiter) allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		return false
	}
	if len(l.last) >= maxLimiterKeys {
		l.forgetOld(now)
	}
	if len(l.last) >= maxLimiterKeys {
		return false
	}
	l.last[key] = now
	return true
}

// forgetOld drops the keys whose interval has passed.
func (l *logLimiter) forgetOld(now time.Time) {
	for k, t := range l.last {
		if now.Sub(t) >= l.every {
			delete(l.last, k)
		}
	}
}
