package imds

import (
	"context"
	"strings"
	"testing"
)

// Names no path can reach are never listed, and labels stay on one line.
func TestUnreachableNamesNotListed(t *testing.T) {
	in := fullInstance()
	in.MAC = ""
	in.KeyName = "evil\nkey"
	in.PublicIP = "a/b"
	s := newServer(fixed(in), nil)
	if code, body := get(t, s, "/latest/meta-data/network/interfaces/macs/"); code != 200 || body != "" {
		t.Errorf("macs/ with no MAC: %d %q", code, body)
	}
	if _, body := get(t, s, "/latest/meta-data/public-keys/"); body != "0=evilkey" {
		t.Errorf("public-keys/: %q", body)
	}
	_, md := get(t, s, "/latest/meta-data/")
	for line := range strings.SplitSeq(md, "\n") {
		if code, _ := get(t, s, "/latest/meta-data/"+line); code != 200 {
			t.Errorf("listed %q answers %d", line, code)
		}
	}
}

func TestTapContext(t *testing.T) {
	if _, ok := TapFrom(context.Background()); ok {
		t.Error("tap in an empty context")
	}
	if tap, ok := TapFrom(WithTap(context.Background(), "tap-i-1")); !ok || tap != "tap-i-1" {
		t.Errorf("TapFrom: %q %v", tap, ok)
	}
}
