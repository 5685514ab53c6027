package qemu

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on an OS thread of its own switched into the network
// namespace at path (such as /var/run/netns/NAME); a process forked by fn
// starts in that namespace. The thread is never switched back: it ends with
// its goroutine, so no other goroutine ever runs in the namespace. An empty
// path runs fn in the caller's namespace.
func inNetns(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread exits with the goroutine
		errc <- enterNetns(path, fn)
	}()
	return <-errc
}

func enterNetns(path string, fn func() error) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter network namespace %s: %w", path, err)
	}
	return fn()
}
