package netnsrun

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestDo(t *testing.T) {
	self, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Skipf("no /proc/thread-self: %v", err)
	}
	var got string
	if err := Do("", func() (err error) { got, err = os.Readlink("/proc/thread-self/ns/net"); return err }); err != nil || got != self {
		t.Errorf("empty path: %q, %v; want the caller's %q", got, err, self)
	}
	if err := Do("/nonexistent/netns", func() error { return nil }); err == nil || !strings.Contains(err.Error(), "/nonexistent/netns") {
		t.Errorf("a missing namespace: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("entering another namespace needs root")
	}
	name := "ktrun" + strings.ReplaceAll(t.Name(), "/", "")[4:]
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", name).Run()
	var inside string
	if err := Do("/run/netns/"+name, func() (err error) { inside, err = os.Readlink("/proc/thread-self/ns/net"); return err }); err != nil {
		t.Fatal(err)
	}
	if inside == self {
		t.Errorf("fn ran in the caller's namespace %s", inside)
	}
	if after, _ := os.Readlink("/proc/thread-self/ns/net"); after != self {
		t.Errorf("the caller's thread moved to %s", after)
	}
}
