//go:build unix

package disk

import "syscall"

const (
	errNotEmpty = syscall.ENOTEMPTY
	errExist    = syscall.EEXIST
)
