package dhcpd

import (
	"fmt"
	"testing"
	"time"
)

func TestLogLimiter(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	l := newLogLimiter(time.Minute, clock.now)
	if !l.allow("a") || l.allow("a") || !l.allow("b") {
		t.Fatal("first event per key must pass, repeats must not")
	}
	clock.advance(59 * time.Second)
	if l.allow("a") {
		t.Error("repeat within the interval passed")
	}
	clock.advance(time.Second)
	if !l.allow("a") {
		t.Error("event after the interval was held back")
	}
}

func TestLogLimiterIsBounded(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	l := newLogLimiter(time.Minute, clock.now)
	for i := range maxLimiterKeys + 10 {
		l.allow(fmt.Sprint(i))
	}
	if len(l.last) > maxLimiterKeys {
		t.Errorf("limiter holds %d keys", len(l.last))
	}
	clock.advance(time.Minute)
	if !l.allow("new") || len(l.last) != 1 {
		t.Errorf("old keys not forgotten: %d keys", len(l.last))
	}
}
