// Command kumo is Kumo's one binary; its roles are subcommands.
package main

import (
	"context"
	"fmt"
	"os"
	"syscall"

	"github.com/kumo-cloud/kumo/internal/cli"
)

func main() {
	// Everything Kumo writes (the database and its WAL, keys, node
	// certificates, objects, images, instance run directories) and what
	// its children write (QEMU, qemu-img) is private to its user: files
	// 0600, directories 0700.
	syscall.Umask(0o077)
	if err := cli.NewRoot().ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "kumo:", err)
		os.Exit(1)
	}
}
