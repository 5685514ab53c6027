package scheduler_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/scheduler"
	st "github.com/kumo-cloud/kumo/internal/scheduler/schedulertest"
)

func TestMarkStale(t *testing.T) {
	now := st.Now()
	seen := func(id string, ago time.Duration, s scheduler.NodeState) scheduler.Node {
		return st.WithState(st.SeenAt(st.Node(id, "a", 1, 1, 1), now.Add(-ago)), s)
	}
	nodes := []scheduler.Node{
		seen("fresh", time.Second, scheduler.NodeReady),
		seen("z-old", time.Hour, scheduler.NodeReady),
		seen("edge", time.Minute, scheduler.NodeReady),
		seen("a-drain", 2*time.Minute, scheduler.NodeDraining),
		seen("down", time.Hour, scheduler.NodeDown),
		seen("removed", time.Hour, scheduler.NodeRemoved),
		st.SeenAt(st.Node("never", "a", 1, 1, 1), time.Time{}),
	}
	tests := []struct {
		after time.Duration
		want  []string
	}{
		{time.Minute, []string{"a-drain", "never", "z-old"}},
		{3 * time.Minute, []string{"never", "z-old"}},
		{0, nil},
		{-time.Second, nil},
	}
	for _, tt := range tests {
		if got := scheduler.MarkStale(nodes, now, tt.after); !slices.Equal(got, tt.want) {
			t.Errorf("MarkStale(after %v) = %v, want %v", tt.after, got, tt.want)
		}
	}
}

// TestUsableAgreesWithMarkStale: a node MarkStale reports is one Place
// will not use, with the same threshold.
func TestUsableAgreesWithMarkStale(t *testing.T) {
	now, after := st.Now(), time.Minute
	opts := scheduler.Options{Now: now, StaleAfter: after}
	for _, ago := range []time.Duration{0, time.Second, after, after + 1, time.Hour} {
		n := st.SeenAt(st.Node("n1", "a", 1, 1, 1), now.Add(-ago))
		stale := len(scheduler.MarkStale([]scheduler.Node{n}, now, after)) == 1
		if opts.Usable(n) == stale {
			t.Errorf("seen %v ago: Usable=%v, stale=%v", ago, opts.Usable(n), stale)
		}
	}
}
