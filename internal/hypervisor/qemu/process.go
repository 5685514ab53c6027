package qemu

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// readPID reads QEMU's pidfile in a run directory.
func readPID(runDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(runDir, pidFile))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("pidfile %s: bad pid %q", filepath.Join(runDir, pidFile), b)
	}
	return pid, nil
}

// alive reports whether pid is a live (not zombie) QEMU started for this
// run directory: its command line must name the run directory's pidfile,
// so a recycled pid is never taken for the guest.
func alive(pid int, runDir string) bool {
	proc := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(proc + "/stat")
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X' {
		return false
	}
	cmdline, err := os.ReadFile(proc + "/cmdline")
	if err != nil {
		return false
	}
	want := filepath.Join(runDir, pidFile)
	for _, arg := range bytes.Split(cmdline, []byte{0}) {
		if string(arg) == want {
			return true
		}
	}
	return false
}

// kill sends SIGKILL to the guest's process if it is still the guest's.
func kill(pid int, runDir string) error {
	if !alive(pid, runDir) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill qemu %d: %w", pid, err)
	}
	return nil
}
