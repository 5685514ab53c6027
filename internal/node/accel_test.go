package node

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// The node reports its accelerator with the probe's reason, and serves it
// as kumo_node_accelerator{accel}.
func TestReportsAcceleratorAndReason(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := newHarness(t)
	const reason = "kvm unusable, falling back to tcg: failed to set MSR 0x10a"
	h.cfgHook = func(c *Config) { c.MetricsListen, c.AccelReason = addr, reason }
	h.start()
	r := waitReport(t, h.srv)
	if r.Node.Accel != "tcg" || r.Node.AccelReason != reason {
		t.Fatalf("node info accel %q reason %q", r.Node.Accel, r.Node.AccelReason)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`kumo_node_accelerator{accel="tcg"} 1`, `kumo_node_accelerator{accel="kvm"} 0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s:\n%s", want, b)
		}
	}
}
