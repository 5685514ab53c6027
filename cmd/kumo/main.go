// Command kumo is Kumo's one binary; its roles are subcommands.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/kumo-cloud/kumo/internal/cli"
)

func main() {
	if err := cli.NewRoot().ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "kumo:", err)
		os.Exit(1)
	}
}
