package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kumo-cloud/kumo/internal/admin"
)

func newNodeCmd(f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Manage hypervisor nodes: join tokens, list, drain, remove"}
	cmd.AddCommand(newNodeTokenCmd(f), newNodeListCmd(f), &cobra.Command{
		Use: "drain NAME", Short: "Place nothing new on a node (what runs there keeps running)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			return c.DrainNode(cmd.Context(), args[0])
		},
	}, newNodeRemoveCmd(f))
	return cmd
}

func newNodeTokenCmd(f *adminFlags) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use: "token", Short: "Create a join token for `kumo node --join-token`", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ttl < time.Second {
				return fmt.Errorf("--ttl must be at least 1s")
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			tok, err := c.CreateNodeToken(cmd.Context(), ttl)
			if err != nil || f.json {
				if err == nil {
					err = printJSON(cmd.OutOrStdout(), tok)
				}
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok.Token)
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token can be used")
	return cmd
}

func newNodeListCmd(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List nodes", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			list, err := c.ListNodes(cmd.Context())
			if err != nil || f.json {
				if err == nil {
					err = printJSON(cmd.OutOrStdout(), list)
				}
				return err
			}
			return printNodes(cmd, list)
		},
	}
}

func printNodes(cmd *cobra.Command, list []admin.Node) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tNODE ID\tZONE\tSTATE\tACCEL\tVCPUS\tMEMORY\tDISK\tINSTANCES\tLAST SEEN\tACCEL REASON")
	for _, n := range list {
		seen := "never"
		if !n.LastSeen.IsZero() {
			seen = time.Since(n.LastSeen).Truncate(time.Second).String() + " ago"
		}
		accel := n.Accel
		if accel == "" {
			accel = "-" // not reported yet
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d MiB\t%d GiB\t%d\t%s\t%s\n", n.Name, n.NodeId, n.Zone, n.State,
			accel, n.VCpus, n.MemoryMiB, n.DiskGiB, n.Instances, seen, n.AccelReason)
	}
	return tw.Flush()
}

func newNodeRemoveCmd(f *adminFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use: "remove NAME", Short: "Remove a node and revoke its certificate", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			return c.RemoveNode(cmd.Context(), args[0], force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "remove even while instances that are not terminated are on it")
	return cmd
}
