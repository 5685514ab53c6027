package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kumo-cloud/kumo/internal/controller"
)

func newDevCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a whole cloud on this machine with an embedded database",
		Long: "kumo dev runs every role in one process with SQLite in the data directory.\n" +
			"Today that is the controller (EC2/IAM/STS and admin APIs); compute nodes and object storage join it in later releases.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			return runController(cmd.Context(), cfg, func(c *controller.Controller) {
				printDevBanner(cmd, cfg, c)
			})
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func printDevBanner(cmd *cobra.Command, cfg controller.Config, c *controller.Controller) {
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		abs = cfg.DataDir
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, `
Kumo is running.
  EC2/IAM/STS API  http://%[1]s   (region %[2]s, zones %[3]v)
  S3 API           http://%[6]s
  Admin API        http://%[4]s   (/metrics, /healthz)
  Data             %[5]s

Create a team account and use it with the AWS CLI:
  kumo admin --data-dir %[5]s account create team-a --json
  export AWS_ACCESS_KEY_ID=<AccessKeyId> AWS_SECRET_ACCESS_KEY=<SecretAccessKey> AWS_DEFAULT_REGION=%[2]s
  aws --endpoint-url http://%[1]s ec2 describe-vpcs
  aws --endpoint-url http://%[6]s s3 mb s3://team-a-images

Stop with Ctrl-C.
`, c.EC2Addr, cfg.Region, cfg.Zones, c.AdminAddr, abs, c.S3Addr)
}
