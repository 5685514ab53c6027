// Package netnsrun runs a function inside a network namespace.
package netnsrun

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has entered the network namespace at
// path (e.g. /run/netns/NAME or /proc/PID/ns/net); with an empty path it
// runs fn in the caller's namespace. Sockets fn opens belong to that
// namespace; goroutines fn starts do not run in it. The thread is never
// handed back to the Go scheduler: it ends with the goroutine that ran fn,
// so no other goroutine ever runs in the namespace.
func Do(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread dies with the goroutine
		errc <- enter(path, fn)
	}()
	return <-errc
}

func enter(path string, fn func() error) error {
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
