package qemuimg

import (
	"errors"
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
