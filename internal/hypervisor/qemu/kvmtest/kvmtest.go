// Package kvmtest runs commands on a host whose /dev/kvm opens but runs no
// guest, as on a host with nested virtualisation that QEMU cannot use: in a
// private mount namespace, /dev/kvm is /dev/null (opens read-write, every
// KVM ioctl fails). Needs root.
package kvmtest

import (
	"os"
	"os/exec"
	"syscall"
)

// guard never lets the script touch the host's /dev: it refuses (exit 99)
// unless it runs in a mount namespace of its own (not init's, not its
// parent's).
const guard = `set -e
self=$(readlink /proc/self/ns/mnt)
if [ "$self" = "$(readlink /proc/1/ns/mnt)" ] || [ "$self" = "$(readlink /proc/$PPID/ns/mnt)" ]; then
	echo "kvmtest: not in a private mount namespace; refusing to change /dev" >&2
	exit 99
fi
`

// script makes /dev/kvm /dev/null inside the command's mount namespace
// ($1 is an empty scratch directory), then execs the rest of its
// arguments. Where /dev/kvm does not exist, /dev is rebuilt on a tmpfs
// from bind mounts of the real one's entries, plus the fake /dev/kvm.
const script = guard + `if [ -e /dev/kvm ]; then
	mount --bind /dev/null /dev/kvm
else
	old="$1"
	mount --rbind /dev "$old"
	mount -t tmpfs -o mode=0755 kumo-fake-dev /dev
	for e in "$old"/* "$old"/.[!.]*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		n="/dev/${e##*/}"
		if [ -L "$e" ]; then cp -P "$e" "$n"
		elif [ -d "$e" ]; then mkdir "$n"; mount --rbind "$e" "$n"
		else : > "$n"; mount --bind "$e" "$n"
		fi
	done
	: > /dev/kvm
	mount --bind "$old/null" /dev/kvm
fi
shift
exec "$@"
`

// Available reports whether commands can be run with a broken /dev/kvm
// (root, and the mount tools).
func Available() bool {
	if os.Geteuid() != 0 {
		return false
	}
	_, err := exec.LookPath("mount")
	return err == nil
}

// Wrap makes cmd run in a new mount namespace where /dev/kvm opens but runs
// nothing. scratch is an empty directory the namespace mounts the real /dev
// on (gone with the namespace). Call before cmd.Start, after anything that
// sets cmd.SysProcAttr (Wrap adds CLONE_NEWNS to it; the script refuses to
// run outside a mount namespace of its own).
func Wrap(cmd *exec.Cmd, scratch string) {
	args := append([]string{"/bin/sh", "-c", script, "kvmtest", scratch}, cmd.Args...)
	if cmd.Path != "" && len(cmd.Args) > 0 {
		args[5] = cmd.Path // the resolved binary, as exec.Command found it
	}
	cmd.Path, cmd.Args = "/bin/sh", args
	cmd.Err = nil
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// Go makes / private (MS_REC|MS_PRIVATE) in a new mount namespace, so
	// nothing mounted here reaches the host.
	cmd.SysProcAttr.Unshareflags |= syscall.CLONE_NEWNS
}
