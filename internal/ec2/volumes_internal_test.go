package ec2

import (
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
)

func TestModificationStates(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	grow := store.VolumeModification{StartedAt: start}
	done := grow
	done.ReachedAt = start.Add(10 * time.Second)
	cases := []struct {
		m        store.VolumeModification
		at       time.Duration
		state    string
		progress int64
	}{
		{grow, 0, modModifying, 0},
		{grow, 20 * time.Second, modModifying, 20},
		{grow, time.Hour, modModifying, 49},
		{done, 10 * time.Second, modOptimizing, 50},
		{done, 10*time.Second + volumeOptimizeTime/2, modOptimizing, 74},
		{done, 10*time.Second + volumeOptimizeTime, modCompleted, 100},
	}
	for _, c := range cases {
		got := modAt(c.m, start.Add(c.at))
		if got.state != c.state || got.progress != c.progress {
			t.Errorf("at %v: %s %d%%, want %s %d%%", c.at, got.state, got.progress, c.state, c.progress)
		}
	}
	if got := modAt(done, start.Add(time.Hour)); !got.end.Equal(done.ReachedAt.Add(volumeOptimizeTime)) {
		t.Errorf("end time %v", got.end)
	}
}
