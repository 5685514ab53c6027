package main

import (
	"os"
	"strings"
	"testing"
)

// TestDocIsCurrent fails when docs/api-coverage.md differs from what the
// code implements: run `make docs`.
func TestDocIsCurrent(t *testing.T) {
	var b strings.Builder
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../../docs/api-coverage.md")
	if err != nil {
		t.Fatalf("read docs/api-coverage.md: %v (run make docs)", err)
	}
	if string(got) != b.String() {
		t.Fatal("docs/api-coverage.md is out of date: run `make docs`")
	}
}

func TestCountsMatchModels(t *testing.T) {
	for _, s := range services() {
		if len(s.all) == 0 || len(s.implemented) == 0 || len(s.implemented) > len(s.all) {
			t.Errorf("%s: %d implemented of %d", s.name, len(s.implemented), len(s.all))
		}
	}
	if n := len(services()[0].all); n != 625 {
		t.Errorf("EC2 model has %d operations, want 625", n)
	}
}
