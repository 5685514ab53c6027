package node

import (
	"testing"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// TestPublicTableNamesAgree: guestnet removes a dead cloud's public table
// by name without importing sgfilter, which makes it.
func TestPublicTableNamesAgree(t *testing.T) {
	if got, want := guestnet.PublicTableName(), sgfilter.PublicTableName; got != want {
		t.Fatalf("guestnet removes table %q, sgfilter makes %q", got, want)
	}
}
