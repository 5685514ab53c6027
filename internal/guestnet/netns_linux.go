//go:build linux

package guestnet

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// InNetns runs fn on a locked OS thread switched into the network
// namespace at path, then switches the thread back. Sockets fn opens stay
// in that namespace, and a child process fn starts (exec.Cmd.Start) is
// forked from that thread and so runs inside it; goroutines fn starts do
// not. When the thread cannot be switched back it is left locked, so the
// Go runtime ends it rather than reuse it.
func InNetns(path string, fn func() error) error {
	target, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer target.Close()
	done := make(chan error, 1)
	go func() { done <- runInNetns(target, fn) }()
	return <-done
}

// runInNetns is InNetns on a goroutine of its own, which exits locked (so
// its thread dies) when it cannot switch back.
func runInNetns(target netns.NsHandle, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("get current netns: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns: %w", err)
	}
	fnErr := fn()
	if err := netns.Set(orig); err != nil {
		return errors.Join(fnErr, fmt.Errorf("leave netns (thread discarded): %w", err))
	}
	runtime.UnlockOSThread()
	return fnErr
}

// isNetns reports whether path is a mounted network namespace (nsfs).
func isNetns(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Type == unix.NSFS_MAGIC, nil
}

// ensureNetns creates the named network namespace at path unless it is
// already there, as `ip netns add` does, and reports whether it created it.
// A file left by a crash before its bind mount is replaced.
func ensureNetns(dir, path string) (bool, error) {
	ok, err := isNetns(path)
	if err != nil || ok {
		return false, err
	}
	if err := ensureNetnsDir(dir); err != nil {
		return false, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("remove stale %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	f.Close()
	done := make(chan error, 1)
	go func() { done <- mountNewNetns(path) }()
	if err := <-done; err != nil {
		os.Remove(path)
		return false, fmt.Errorf("create netns %s: %w", path, err)
	}
	return true, nil
}

// mountNewNetns unshares a new network namespace on a locked thread, bind
// mounts it on path and switches the thread back.
func mountNewNetns(path string) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("unshare: %w", err)
	}
	self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
	mountErr := unix.Mount(self, path, "none", unix.MS_BIND, "")
	if err := netns.Set(orig); err != nil {
		return errors.Join(mountErr, fmt.Errorf("leave new netns (thread discarded): %w", err))
	}
	runtime.UnlockOSThread()
	if mountErr != nil {
		return fmt.Errorf("bind mount: %w", mountErr)
	}
	return nil
}

// ensureNetnsDir makes dir a shared mount point, as iproute2 does, so that
// namespaces unmounted here are unmounted in mount namespaces made later.
func ensureNetnsDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if !errors.Is(err, unix.EINVAL) {
		return wrapMount(dir, err)
	}
	// Not yet a mount point: make it one, then shared.
	if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return wrapMount(dir, err)
	}
	return wrapMount(dir, unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, ""))
}

func wrapMount(dir string, err error) error {
	if err != nil {
		return fmt.Errorf("make %s a shared mount: %w", dir, err)
	}
	return nil
}

// removeNetns unmounts and removes the namespace at path; missing is fine.
func removeNetns(path string) error {
	err := unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// setSysctl writes a sysctl under /proc/sys/net as seen from the namespace
// at path.
func setSysctl(path, key, value string) error {
	return InNetns(path, func() error {
		if err := os.WriteFile("/proc/sys/"+key, []byte(value), 0o644); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
		}
		return nil
	})
}
