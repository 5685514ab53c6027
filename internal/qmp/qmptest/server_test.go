package qmptest

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// Before qmp_capabilities, QEMU refuses every other command; a client that
// never negotiates does not hold up Close.
func TestNegotiationRequired(t *testing.T) {
	s := New(t)
	c, err := net.Dial("unix", s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if line, _ := r.ReadString('\n'); !strings.Contains(line, `"QMP"`) {
		t.Fatalf("greeting %q", line)
	}
	c.Write([]byte(`{"execute":"query-status","id":"a"}` + "\n"))
	if line, _ := r.ReadString('\n'); !strings.Contains(line, "CommandNotFound") {
		t.Fatalf("reply before negotiation %q", line)
	}
	if len(s.Calls()) != 0 {
		t.Errorf("calls recorded before negotiation: %v", s.Calls())
	}
	s.Close()
}
