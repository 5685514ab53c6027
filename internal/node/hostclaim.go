package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kumo-cloud/kumo/internal/guestnet"
)

// claimHost makes this process the owner of its namespace prefix on the
// host (refused while another running Kumo is) and takes back the host
// routes that Kumos no longer running left behind (they would shadow this
// node's VPCs and elastic IPs).
func claimHost(mgr *guestnet.Manager, o Options) (*guestnet.Claim, error) {
	claim, err := guestnet.ClaimPrefix(guestnet.OwnersDir, guestnet.Owner{Prefix: mgr.Prefix(), PID: os.Getpid(),
		DataDir: o.DataDir, HostNetns: o.HostNetns, Uplink: o.Uplink, Started: time.Now().UTC()})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if _, err := mgr.ReclaimStale(guestnet.OwnersDir); err != nil && o.Logger != nil {
		o.Logger.Warn("take back host routes left by kumos no longer running", "err", err)
	}
	return claim, nil
}

// ResetOptions name what Reset clears.
type ResetOptions struct {
	DataDir     string // the node's data dir (kumo dev's <data-dir>/node)
	NetnsPrefix string
	HostNetns   string
	Logger      *slog.Logger
}

// ResetResult is what Reset removed.
type ResetResult struct {
	Guests []int // QEMU pids killed
	guestnet.Removed
}

// Reset removes everything a node's data dir put on this host: its guests
// (QEMU processes), its VPC namespaces with their taps, bridges and
// tables, its host veths and routes, proxy entries and the host
// forwarding table, and its owner record. It refuses while the node runs.
// The data dir itself is left as it is.
func Reset(o ResetOptions) (ResetResult, error) {
	var res ResetResult
	mgr, err := guestnet.New(guestnet.Config{Prefix: o.NetnsPrefix, HostNetns: o.HostNetns, Logger: o.Logger})
	if err != nil {
		return res, err
	}
	claim, err := guestnet.ClaimPrefix(guestnet.OwnersDir, guestnet.Owner{Prefix: mgr.Prefix(), PID: os.Getpid(),
		DataDir: o.DataDir, HostNetns: o.HostNetns, Started: time.Now().UTC()})
	if err != nil {
		return res, err
	}
	defer claim.Release()
	if res.Guests, err = killGuests(filepath.Join(o.DataDir, "instances")); err != nil {
		return res, err
	}
	if res.Removed, err = mgr.RemoveHostState(true); err != nil {
		return res, err
	}
	return res, claim.Forget(guestnet.OwnersDir)
}

// killGuests kills the QEMU process of every guest under dir (a run dir
// per instance, with QEMU's pidfile) and waits until they are gone.
func killGuests(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("guests: %w", err)
	}
	var killed []int
	for _, e := range ents {
		pidfile := filepath.Join(dir, e.Name(), "qemu.pid")
		pid := guestPID(pidfile)
		if pid == 0 {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return killed, fmt.Errorf("kill guest %s (pid %d): %w", e.Name(), pid, err)
		}
		killed = append(killed, pid)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range killed {
		for syscall.Kill(pid, 0) == nil && !zombie(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return killed, nil
}

// guestPID is the live QEMU process of pidfile: its command line names
// the pidfile, so a recycled pid is never taken for the guest. 0: none.
func guestPID(pidfile string) int {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 || zombie(pid) {
		return 0
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return 0
	}
	for _, arg := range strings.Split(string(cmdline), "\x00") {
		if arg == pidfile {
			return pid
		}
	}
	return 0
}

func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}
