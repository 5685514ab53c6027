package qemu

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestValidateNetns(t *testing.T) {
	s := Spec{ID: "i-1", VCPUs: 1, MemoryMiB: 64, Kernel: "/k", SMBIOSUUID: "ec2a1b2c-3d4e-5f60-7182-93a4b5c6d7e8", RunDir: "/run/x", Netns: "netns/x"}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "netns") {
		t.Fatalf("relative netns: %v", err)
	}
	s.Netns = "/run/netns/x"
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

// A process started from inNetns runs in that namespace; the caller's
// thread does not move.
func TestInNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	name := fmt.Sprintf("kumoqt%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	path := "/run/netns/" + name
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		t.Fatal(err)
	}
	var out []byte
	err := inNetns(path, func() error {
		var err error
		out, err = exec.Command("readlink", "/proc/self/ns/net").Output()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != fmt.Sprintf("net:[%d]", want.Ino) {
		t.Fatalf("child's netns %s, want net:[%d]", got, want.Ino)
	}
	var self unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &self); err == nil && self.Ino == want.Ino {
		t.Fatal("the caller's thread was left in the namespace")
	}
}
