package qemuimg

import (
	"path/filepath"
	"testing"
)

func TestCreateAndResize(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	for _, f := range []string{FormatRaw, FormatQCOW2} { // vpc cannot be resized
		img := filepath.Join(dir, "disk."+f)
		if err := tool.Create(ctx(t), img, f, 3<<20+512, "", ""); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := tool.Resize(ctx(t), img, f, 8<<20); err != nil {
			t.Fatalf("%s: resize: %v", f, err)
		}
		info, err := tool.Info(ctx(t), img, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if info.VirtualSize != 8<<20 {
			t.Errorf("%s: virtual size %d after resize, want %d", f, info.VirtualSize, 8<<20)
		}
		if err := tool.Resize(ctx(t), img, f, 1<<20); err == nil {
			t.Errorf("%s: shrink succeeded", f)
		}
	}
}

func TestCreateArguments(t *testing.T) {
	tool := Tool{Path: "/nonexistent/qemu-img"}
	dir := t.TempDir()
	bad := []struct {
		name                   string
		format                 string
		size                   int64
		backing, backingFormat string
	}{
		{"no format", "", 1 << 20, "", ""},
		{"no size", FormatQCOW2, 0, "", ""},
		{"backing without format", FormatQCOW2, 0, "/base.img", ""},
	}
	for _, c := range bad {
		if err := tool.Create(ctx(t), filepath.Join(dir, "x"), c.format, c.size, c.backing, c.backingFormat); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if err := tool.Create(ctx(t), filepath.Join(dir, "x"), FormatQCOW2, 1<<20, "", ""); err == nil {
		t.Error("missing binary: no error")
	}
}

// An overlay of a given size can be made on a backing file that does not
// exist yet, and records it as given.
func TestCreateOnAbsentBacking(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	img, base := filepath.Join(dir, "root.qcow2"), filepath.Join(dir, "base.raw")
	if err := tool.Create(ctx(t), img, FormatQCOW2, 8<<20, base, FormatRaw); err != nil {
		t.Fatal(err)
	}
	if err := tool.Create(ctx(t), filepath.Join(dir, "sized-by-base.qcow2"), FormatQCOW2, 0, base, FormatRaw); err == nil {
		t.Error("an overlay sized by an absent backing file was made")
	}
	if err := tool.Create(ctx(t), base, FormatRaw, 8<<20, "", ""); err != nil {
		t.Fatal(err)
	}
	// Info refuses images with a backing file (it vets imports) but says what it found.
	info, _ := tool.Info(ctx(t), img, FormatQCOW2)
	if info.BackingFile != base || info.VirtualSize != 8<<20 {
		t.Fatalf("overlay: %+v", info)
	}
}
