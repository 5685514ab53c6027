package qemu

import "github.com/kumo-cloud/kumo/internal/netnsrun"

// inNetns runs fn on an OS thread of its own switched into the network
// namespace at path (such as /var/run/netns/NAME), so that a process fn
// forks starts in that namespace; an empty path runs fn in the caller's
// (netnsrun.Do).
func inNetns(path string, fn func() error) error { return netnsrun.Do(path, fn) }
