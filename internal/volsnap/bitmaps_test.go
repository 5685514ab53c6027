package volsnap

import (
	"context"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// fakeBitmaps is bitmapOps over a map: name -> set of dirty chunks.
type fakeBitmaps struct {
	bms          map[string][]int
	inconsistent map[string]bool
	merged       []string
}

func (f *fakeBitmaps) listBitmaps(context.Context) ([]bitmapInfo, error) {
	var out []bitmapInfo
	for n := range f.bms {
		out = append(out, bitmapInfo{Name: n, Inconsistent: f.inconsistent[n]})
	}
	return out, nil
}

func (f *fakeBitmaps) mergeBitmaps(_ context.Context, dst string, srcs []string) error {
	for _, s := range srcs {
		f.bms[dst] = append(f.bms[dst], f.bms[s]...)
		f.merged = append(f.merged, s)
	}
	return nil
}

func (f *fakeBitmaps) removeBitmaps(_ context.Context, names []string) error {
	for _, n := range names {
		delete(f.bms, n)
	}
	return nil
}

func (f *fakeBitmaps) names() []string {
	var n []string
	for k := range f.bms {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

func TestReconcileBitmaps(t *testing.T) {
	ctx := context.Background()
	parent := &snapshot.Manifest{SnapshotID: "snap-p"}
	for _, tc := range []struct {
		name         string
		bms          map[string][]int
		inconsistent map[string]bool
		parent       *snapshot.Manifest
		stored       bool
		want         []string
		wantP        []int // the dirty chunks of kumo-snap-p after
	}{
		{name: "failed attempt: its bitmap goes back into the parent's",
			bms:    map[string][]int{"kumo-snap-p": {1}, "kumo-snap-s": {7}, "other": {3}},
			parent: parent, want: []string{"kumo-snap-p", "other"}, wantP: []int{1, 7}},
		{name: "stored: only the new bitmap stays",
			bms:    map[string][]int{"kumo-snap-p": {1}, "kumo-snap-s": {7}, "kumo-old": {9}},
			parent: parent, stored: true, want: []string{"kumo-snap-s"}},
		{name: "no parent: nothing of Kumo's is trusted",
			bms:  map[string][]int{"kumo-snap-x": {1}, "kumo-snap-s": {7}},
			want: nil},
		{name: "an inconsistent parent bitmap is dropped",
			bms:          map[string][]int{"kumo-snap-p": {1}, "kumo-snap-s": {7}},
			inconsistent: map[string]bool{"kumo-snap-p": true},
			parent:       parent, want: nil},
		{name: "an inconsistent new bitmap is dropped",
			bms:          map[string][]int{"kumo-snap-s": {7}},
			inconsistent: map[string]bool{"kumo-snap-s": true},
			parent:       parent, stored: true, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeBitmaps{bms: tc.bms, inconsistent: tc.inconsistent}
			if err := reconcileBitmaps(ctx, f, "snap-s", tc.parent, tc.stored); err != nil {
				t.Fatal(err)
			}
			if got := f.names(); !slices.Equal(got, tc.want) {
				t.Errorf("bitmaps %v, want %v", got, tc.want)
			}
			if tc.wantP != nil && !slices.Equal(f.bms["kumo-snap-p"], tc.wantP) {
				t.Errorf("parent's bitmap %v, want %v", f.bms["kumo-snap-p"], tc.wantP)
			}
		})
	}
}
