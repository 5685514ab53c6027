package ratelog

import (
	"testing"
	"time"
)

func TestLimiterPassesBurstPerWindowAndCountsTheRest(t *testing.T) {
	now := time.Unix(1000, 0)
	l := &Limiter{Every: 5 * time.Second, Burst: 2, Now: func() time.Time { return now }}
	var passed int
	for i := 0; i < 1000; i++ {
		if ok, _ := l.Allow("ServiceUnavailable"); ok {
			passed++
		}
	}
	if passed != 2 {
		t.Fatalf("passed %d lines in one window, want 2", passed)
	}
	if ok, _ := l.Allow("InternalError"); !ok {
		t.Fatal("another class shares the first class's window")
	}
	now = now.Add(5 * time.Second)
	ok, suppressed := l.Allow("ServiceUnavailable")
	if !ok || suppressed != 998 {
		t.Fatalf("next window: ok %v, suppressed %d; want true, 998", ok, suppressed)
	}
	if _, s := l.Allow("ServiceUnavailable"); s != 0 {
		t.Fatalf("suppressed count reported twice (%d)", s)
	}
}
