package qemuimg

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseProgress(t *testing.T) {
	cases := map[string]float64{"    (0.00/100%)": 0, "(12.34/100%)": 12.34, "    (100.00/100%)": 100}
	for in, want := range cases {
		if got, ok := parseProgress(in); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "hello", "(x/100%)", "(120.00/100%)", "(-1/100%)"} {
		if _, ok := parseProgress(in); ok {
			t.Errorf("%q parsed", in)
		}
	}
}

func TestReportProgress(t *testing.T) {
	in := "    (0.00/100%)\r    (0.00/100%)\r    (50.00/100%)\r    (100.00/100%)\r\n"
	var got []float64
	last := reportProgress(strings.NewReader(in), func(p float64) { got = append(got, p) })
	if !slices.Equal(got, []float64{0, 50, 100}) || last != 100 {
		t.Fatalf("got %v last %v", got, last)
	}
}

func TestFormats(t *testing.T) {
	for in, want := range map[string]string{"VHD": "vpc", "vpc": "vpc", "RAW": "raw", "qcow2": "qcow2", "VMDK": "vmdk"} {
		if got, err := ParseImportFormat(in); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"vhdx", "ova", "", "vdi"} {
		if _, err := ParseImportFormat(in); !errors.Is(err, ErrUnsupportedFormat) {
			t.Errorf("%q: %v, want ErrUnsupportedFormat", in, err)
		}
	}
	if ImportFormatName("vpc") != "vhd" || ImportFormatName("qcow2") != "qcow2" {
		t.Error("ImportFormatName")
	}
}

func TestArgvLimits(t *testing.T) {
	tool := Tool{Path: "/q", Prlimit: "/usr/bin/prlimit"}
	got := tool.argv(true, "info", "/x")
	want := []string{"/usr/bin/prlimit", "--as=1073741824", "--cpu=60", "--", "/q", "info", "/x"}
	if !slices.Equal(got, want) {
		t.Errorf("limited argv %q, want %q", got, want)
	}
	if got := tool.argv(false, "info"); !slices.Equal(got, []string{"/q", "info"}) {
		t.Errorf("unlimited argv %q", got)
	}
	tool.Prlimit = "-"
	if got := tool.argv(true, "info"); !slices.Equal(got, []string{"/q", "info"}) {
		t.Errorf("disabled limits argv %q", got)
	}
}

func TestSummarize(t *testing.T) {
	in := "qemu-img: Could not open 'x': Image is not in qcow2 format\n\n" + strings.Repeat("ERROR: cluster\n", 1000)
	got := summarize([]byte(in))
	if !strings.HasPrefix(got, "Could not open 'x'") || len(got) > maxStderrSummary+10 || !strings.HasSuffix(got, "…") {
		t.Errorf("summary %q", got)
	}
}

func TestIsText(t *testing.T) {
	if !isText([]byte("hello, world\n\tünïcode\r\n")) || isText([]byte("bin\x00ary")) || isText(nil) {
		t.Error("isText")
	}
}

func TestSniff(t *testing.T) {
	vdi := make([]byte, 512)
	copy(vdi[0x40:], []byte{0x7f, 0x10, 0xda, 0xbe})
	footer := append(make([]byte, 0, 512), "conectix"...)
	cases := []struct {
		head, tail []byte
		want       string
		ok         bool
	}{
		{[]byte("QFI\xfb\x00\x00\x00\x03"), nil, "qcow2", true},
		{[]byte("QFI\xfb\x00\x00\x00\x01"), nil, "qcow", false},
		{[]byte("KDMV"), nil, "vmdk", true},
		{[]byte("# Disk DescriptorFile\n"), nil, "vmdk", true},
		{[]byte("conectix"), nil, "vpc", true},
		{make([]byte, 512), footer, "vpc", true},
		{[]byte("vhdxfile"), nil, "vhdx", false},
		{vdi, nil, "vdi", false},
		{[]byte("LUKS\xba\xbe"), nil, "luks", false},
		{make([]byte, 512), make([]byte, 512), "raw", true},
	}
	for _, c := range cases {
		if got, ok := sniff(c.head, c.tail); got != c.want || ok != c.ok {
			t.Errorf("%q: %s %v, want %s %v", c.head[:min(8, len(c.head))], got, ok, c.want, c.ok)
		}
	}
}

func TestUserMessage(t *testing.T) {
	err := fmt.Errorf("/var/lib/kumo/x: %w: %w", ErrBackingFile, &Error{Op: "info", Path: "/var/lib/kumo/x"})
	if got := UserMessage(err); got != ErrBackingFile.Error() || strings.Contains(got, "/var") {
		t.Errorf("got %q", got)
	}
	if got := UserMessage(errors.New("exit status 1")); got != "the disk image could not be converted" {
		t.Errorf("got %q", got)
	}
}
