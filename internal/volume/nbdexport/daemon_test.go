package nbdexport

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/volume/local"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A real daemon exports a local volume; qemu-img reads it back over NBD;
// a new handle (an agent restart) finds the daemon and its export.
func TestExportSurvivesRestart(t *testing.T) {
	for _, tool := range []string{"qemu-storage-daemon", "qemu-img"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install qemu-system-x86 qemu-utils)", tool)
		}
	}
	ctx := context.Background()
	tmp := t.TempDir()
	be := &local.Backend{Dir: filepath.Join(tmp, "volumes")}
	src := filepath.Join(tmp, "src.raw")
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	const id = "vol-0123456789abcdef0"
	if err := be.Fill(ctx, id, src, "raw", 2<<20); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Dir: filepath.Join(tmp, "qsd"), Addr: freeAddr(t)}
	t.Cleanup(func() { (&Daemon{Dir: d.Dir, Addr: d.Addr}).Stop(context.Background()) })
	url, err := d.Export(ctx, id, be.Blockdev(id, "ignored"))
	if err != nil {
		t.Fatal(err)
	}
	if url != "nbd://"+d.Addr+"/"+id {
		t.Fatalf("url %s", url)
	}
	if _, err := d.Export(ctx, id, be.Blockdev(id, "ignored")); err != nil {
		t.Fatalf("second export: %v", err)
	}
	pid, _ := d.pid()
	d.Close() // the agent goes away; the daemon stays

	// Another node copies it.
	other := &local.Backend{Dir: filepath.Join(tmp, "other")}
	if err := other.Fill(ctx, id, url, "raw", 2<<20); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out.raw")
	if o, err := exec.Command("qemu-img", "convert", "-f", "qcow2", "-O", "raw", other.Path(id), out).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, o)
	}
	got, _ := os.ReadFile(out)
	if len(got) != 2<<20 || !bytes.Equal(got[:len(data)], data) {
		t.Fatalf("copy over NBD differs (%d bytes)", len(got))
	}

	d2 := &Daemon{Dir: d.Dir, Addr: d.Addr}
	ids, err := d2.Exports(ctx)
	if err != nil || !slices.Equal(ids, []string{id}) {
		t.Fatalf("exports after restart: %v, %v", ids, err)
	}
	if p, _ := d2.pid(); p != pid {
		t.Fatalf("daemon pid %d after restart, want %d", p, pid)
	}
	if err := d2.Unexport(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d2.Unexport(ctx, id); err != nil {
		t.Fatalf("second unexport: %v", err)
	}
	// The volume's file is free again: qemu-img takes its write lock.
	if o, err := exec.Command("qemu-img", "resize", "-f", "qcow2", be.Path(id), "4M").CombinedOutput(); err != nil {
		t.Fatalf("volume still open after unexport: %v: %s", err, o)
	}
	if err := d2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if d2.running() {
		t.Fatal("daemon still running after Stop")
	}
}
