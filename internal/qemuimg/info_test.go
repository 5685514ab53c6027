package qemuimg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInfoDetectsFormats(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "source.img", diskPattern(1<<20))
	for _, f := range []string{FormatRaw, FormatQCOW2, FormatVMDK, FormatVPC} {
		img := filepath.Join(dir, "disk."+f)
		if err := tool.Convert(ctx(t), src, FormatRaw, img, f, nil); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		info, err := tool.Info(ctx(t), img, "")
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if info.Format != f || info.VirtualSize != 1<<20 || info.BackingFile != "" {
			t.Errorf("%s: info %+v", f, info)
		}
	}
}

// A fixed-size VHD has only a footer; qemu-img's own probe calls it raw.
func TestDetectFixedVHD(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	want := diskPattern(2 << 20)
	src := writeFile(t, dir, "source.img", want)
	vhd := filepath.Join(dir, "fixed.vhd")
	qemuImg(t, "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", src, vhd)
	info, err := tool.Info(ctx(t), vhd, "")
	if err != nil || info.Format != FormatVPC || info.VirtualSize != 2<<20 {
		t.Fatalf("info %+v err %v, want vpc of 2 MiB", info, err)
	}
	back := filepath.Join(dir, "back.raw")
	if err := tool.Convert(ctx(t), vhd, info.Format, back, FormatRaw, nil); err != nil {
		t.Fatal(err)
	}
	sameDisk(t, back, want)
}

func TestInfoRefusesNonImages(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	text := writeFile(t, dir, "notes.txt", []byte("this is not a disk\n"))
	padded := writeFile(t, dir, "padded.txt", []byte(strings.Repeat("0123456789abcdef", 64)))
	empty := writeFile(t, dir, "empty.img", nil)
	cases := []struct{ name, path, format string }{
		{"text probed", text, ""},
		{"text declared qcow2", text, FormatQCOW2},
		{"text declared raw", text, FormatRaw},
		{"text of whole sectors", padded, ""},
		{"empty", empty, ""},
		{"directory", dir, ""},
	}
	for _, c := range cases {
		_, err := tool.Info(ctx(t), c.path, c.format)
		if !errors.Is(err, ErrNotADiskImage) {
			t.Errorf("%s: err %v, want ErrNotADiskImage", c.name, err)
		}
	}
	if _, err := tool.Info(ctx(t), filepath.Join(dir, "missing"), ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// A file named like qemu's json: pseudo-protocol is read as a plain file.
func TestInfoPseudoProtocolNameIsAFile(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	name := writeFile(t, dir, `json:{"driver":"null-co","size":1048576}`, make([]byte, 512))
	info, err := tool.Info(ctx(t), name, "")
	if err != nil || info.Format != FormatRaw || info.VirtualSize != 512 {
		t.Fatalf("info %+v err %v, want the 512-byte raw file itself", info, err)
	}
	writeFile(t, dir, "nbd:localhost:10809", make([]byte, 1024))
	t.Chdir(dir)
	info, err = tool.Info(ctx(t), "nbd:localhost:10809", "")
	if err != nil || info.Format != FormatRaw || info.VirtualSize != 1024 {
		t.Fatalf("relative nbd: name: info %+v err %v, want the 1024-byte raw file", info, err)
	}
}

func TestInfoRefusesBackingFiles(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "base.qcow2")
	overlay := filepath.Join(dir, "overlay.qcow2")
	if err := tool.Create(ctx(t), base, FormatQCOW2, 1<<20, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := tool.Create(ctx(t), overlay, FormatQCOW2, 0, base, FormatQCOW2); err != nil {
		t.Fatal(err)
	}
	info, err := tool.Info(ctx(t), overlay, "")
	if !errors.Is(err, ErrBackingFile) || info.BackingFile != base {
		t.Fatalf("overlay: info %+v err %v, want ErrBackingFile naming %s", info, err, base)
	}
	jsonBacking := filepath.Join(dir, "json-backing.qcow2")
	qemuImg(t, "create", "-q", "-f", "qcow2", "-u", "-F", "raw",
		"-b", `json:{"driver":"raw","file":{"driver":"file","filename":"/etc/hostname"}}`, jsonBacking, "1M")
	if _, err := tool.Info(ctx(t), jsonBacking, FormatQCOW2); !errors.Is(err, ErrBackingFile) {
		t.Fatalf("json: backing: %v, want ErrBackingFile", err)
	}
	if err := tool.Convert(ctx(t), jsonBacking, FormatQCOW2, filepath.Join(dir, "out.raw"), FormatRaw, nil); !errors.Is(err, ErrBackingFile) {
		t.Fatalf("convert json: backing: %v, want ErrBackingFile", err)
	}
}

func TestInfoRefusesExternalFiles(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	dataFile := filepath.Join(dir, "data.qcow2")
	qemuImg(t, "create", "-q", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.bin"), dataFile, "1M")
	if _, err := tool.Info(ctx(t), dataFile, ""); !errors.Is(err, ErrExternalFile) {
		t.Errorf("qcow2 data-file: %v, want ErrExternalFile", err)
	}
	// A VMDK descriptor whose extent is a host file: reading it would leak
	// /etc/hostname into the user's image.
	desc := "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n" +
		"createType=\"monolithicFlat\"\nRW 1 FLAT \"/etc/hostname\" 0\n"
	vmdk := writeFile(t, dir, "desc.vmdk", []byte(desc))
	for _, f := range []string{"", FormatVMDK} {
		if _, err := tool.Info(ctx(t), vmdk, f); !errors.Is(err, ErrExternalFile) {
			t.Errorf("vmdk descriptor (format %q): %v, want ErrExternalFile", f, err)
		}
	}
}

func TestInfoSizeLimit(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.qcow2")
	if err := tool.Create(ctx(t), huge, FormatQCOW2, 3<<40, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.Info(ctx(t), huge, FormatQCOW2); !errors.Is(err, ErrTooLarge) {
		t.Errorf("3 TiB with default limit: %v, want ErrTooLarge", err)
	}
	small := Tool{MaxVirtualSize: 1 << 20}
	mid := filepath.Join(dir, "mid.qcow2")
	if err := tool.Create(ctx(t), mid, FormatQCOW2, 4<<20, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := small.Convert(ctx(t), mid, FormatQCOW2, filepath.Join(dir, "o.raw"), FormatRaw, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("4 MiB with 1 MiB limit: %v, want ErrTooLarge", err)
	}
}

func TestInfoRefusesOtherFormats(t *testing.T) {
	tool := realTool(t)
	dir := t.TempDir()
	vdi := filepath.Join(dir, "disk.vdi")
	if err := tool.Create(ctx(t), vdi, "vdi", 1<<20, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.Info(ctx(t), vdi, ""); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("vdi: %v, want ErrUnsupportedFormat", err)
	}
	if _, err := tool.Info(ctx(t), vdi, "vdi"); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("vdi declared: %v, want ErrUnsupportedFormat", err)
	}
}
