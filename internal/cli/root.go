// Package cli holds the kumo command's cobra commands: flag parsing and
// wiring only; each role's work lives in its own package.
package cli

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/kumo-cloud/kumo/internal/cli.Version=…".
var Version = "dev"

// NewRoot builds the kumo command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "kumo",
		Short:         "Kumo: an EC2-compatible private cloud",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCmd(), newDevCmd(), newAdminCmd(), newNodeAgentCmd(), newLoginCmd(), newVersionCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			v := Version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" && len(s.Value) >= 12 {
						v = "dev-" + s.Value[:12]
					}
				}
			}
			cmd.Println("kumo " + v)
		},
	}
}

// newLogger logs JSON, or text when stderr is a terminal.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}
