package qmp_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// startQEMU runs a real, diskless QEMU under TCG with its monitor on a
// socket and returns a connection to it.
func startQEMU(t *testing.T) *qmp.Conn {
	t.Helper()
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86); skipping the real QMP tests")
	}
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	cmd := exec.Command(bin, "-machine", "q35", "-accel", "tcg", "-nodefaults", "-no-user-config",
		"-display", "none", "-m", "64", "-device", "pcie-root-port,id=hp0,chassis=1",
		"-qmp", "unix:"+sock+",server=on,wait=off")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c, err := qmp.Dial(ctx, sock)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
		if ctx.Err() != nil {
			t.Fatalf("QEMU's monitor never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitEvent(t *testing.T, c *qmp.Conn, name string) qmp.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-c.Events():
			if !ok {
				t.Fatalf("connection ended before %s", name)
			}
			if e.Name == name {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event", name)
		}
	}
}

func TestRealQEMURunState(t *testing.T) {
	c := startQEMU(t)
	ctx := context.Background()
	if st, err := c.QueryStatus(ctx); err != nil || st.Status != qmp.StatusRunning {
		t.Fatalf("QueryStatus = %+v, %v", st, err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "STOP")
	if st, _ := c.QueryStatus(ctx); st.Status != qmp.StatusPaused {
		t.Fatalf("after stop: %+v", st)
	}
	if err := c.Cont(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "RESUME")
	if err := c.SystemReset(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "RESET")
	if err := c.SystemPowerdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "POWERDOWN")
	if err := c.Quit(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c, "SHUTDOWN")
	<-c.Done()
}

func TestRealQEMUBlockHotplug(t *testing.T) {
	c := startQEMU(t)
	ctx := context.Background()
	err := c.BlockdevAdd(ctx, qmp.BlockdevOptions{Driver: "raw", NodeName: "vol1",
		File: &qmp.BlockdevRef{New: &qmp.BlockdevOptions{Driver: "null-co", Size: 64 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.DeviceAdd(ctx, "virtio-blk-pci", "dev-vol1",
		map[string]any{"drive": "vol1", "bus": "hp0", "serial": "vol0123456789abcdef0"})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := c.QueryBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range bs {
		if b.Inserted != nil && b.Inserted.NodeName == "vol1" {
			found = b.Inserted.Driver == "raw"
		}
	}
	if !found {
		t.Fatalf("query-block has no raw node vol1: %+v", bs)
	}
	names, err := c.BlockNodeNames(ctx)
	if err != nil || !slices.Contains(names, "vol1") {
		t.Fatalf("BlockNodeNames = %v, %v; want vol1 among them", names, err)
	}
	var qe *qmp.Error
	if err := c.DeviceDel(ctx, "no-such-device"); !errors.As(err, &qe) || qe.Class != "DeviceNotFound" {
		t.Fatalf("DeviceDel of a missing device: %v, want DeviceNotFound", err)
	}
	if err := c.BlockdevDel(ctx, "vol1"); err == nil {
		t.Fatal("blockdev-del of a node in use succeeded")
	}
}
