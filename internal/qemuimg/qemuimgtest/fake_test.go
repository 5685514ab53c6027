package qemuimgtest

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/qemuimg"
)

func TestFakeImportFlow(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "upload.qcow2")
	if err := os.WriteFile(src, []byte("guest bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := New()
	f.Add(src, qemuimg.Info{Format: qemuimg.FormatQCOW2, VirtualSize: 11})
	info, err := f.Info(t.Context(), src, "")
	if err != nil || info.Format != "qcow2" {
		t.Fatalf("info %+v %v", info, err)
	}
	var pct []float64
	dst := filepath.Join(dir, "disk.raw")
	if err := f.Convert(t.Context(), src, info.Format, dst, qemuimg.FormatRaw, func(p float64) { pct = append(pct, p) }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "guest bytes" || !slices.Equal(pct, []float64{0, 50, 100}) {
		t.Fatalf("dst %q progress %v", got, pct)
	}
	if len(f.Calls()) != 2 || f.Calls()[1].Op != "convert" {
		t.Fatalf("calls %+v", f.Calls())
	}
}

func TestFakeErrors(t *testing.T) {
	dir := t.TempDir()
	f := New()
	if _, err := f.Info(t.Context(), filepath.Join(dir, "x"), ""); !errors.Is(err, qemuimg.ErrNotADiskImage) {
		t.Errorf("unknown: %v", err)
	}
	base := filepath.Join(dir, "base.raw")
	overlay := filepath.Join(dir, "overlay.qcow2")
	if err := f.Create(t.Context(), base, "raw", 1<<20, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Create(t.Context(), overlay, "qcow2", 0, base, "raw"); err != nil {
		t.Fatal(err)
	}
	if info, err := f.Info(t.Context(), overlay, ""); !errors.Is(err, qemuimg.ErrBackingFile) || info.VirtualSize != 1<<20 {
		t.Errorf("overlay: %+v %v", info, err)
	}
	f.Fail("check", qemuimg.ErrCorrupt)
	if err := f.Check(t.Context(), base, "raw"); !errors.Is(err, qemuimg.ErrCorrupt) {
		t.Errorf("injected: %v", err)
	}
	if err := f.Resize(t.Context(), base, "raw", 1<<10); err == nil {
		t.Error("shrink accepted")
	}
}
