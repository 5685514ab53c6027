package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kumo-cloud/kumo/internal/admin"
)

type adminFlags struct {
	dataDir, endpoint string
	json              bool
}

// client finds the admin API: --endpoint with $KUMO_ADMIN_TOKEN, or the credential in --data-dir.
func (f *adminFlags) client() (*admin.Client, error) {
	if f.endpoint != "" {
		tok := os.Getenv(admin.EnvToken)
		if tok == "" {
			return nil, fmt.Errorf("--endpoint needs the admin token in $%s", admin.EnvToken)
		}
		return admin.NewClient(admin.Credential{Endpoint: f.endpoint, Token: tok}), nil
	}
	if err := absPaths(map[string]*string{"data-dir": &f.dataDir}); err != nil {
		return nil, err
	}
	cred, err := admin.LoadCredential(f.dataDir)
	if err != nil {
		return nil, err
	}
	if tok := os.Getenv(admin.EnvToken); tok != "" {
		cred.Token = tok
	}
	return admin.NewClient(cred), nil
}

func newAdminCmd() *cobra.Command {
	var f adminFlags
	cmd := &cobra.Command{Use: "admin", Short: "Operate a Kumo cloud: accounts, access keys"}
	cmd.PersistentFlags().StringVar(&f.dataDir, "data-dir", "./data", "the server's data directory (holds the admin credential)")
	cmd.PersistentFlags().StringVar(&f.endpoint, "endpoint", "", "admin API URL of a remote server (token in $"+admin.EnvToken+")")
	cmd.PersistentFlags().BoolVar(&f.json, "json", false, "print JSON")
	cmd.AddCommand(newAccountCmd(&f), newKeyCmd(&f), newImageCmd(&f), newNodeCmd(&f))
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newAccountCmd(f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Manage accounts (teams)"}
	cmd.AddCommand(&cobra.Command{
		Use: "create NAME", Short: "Create an account with a root access key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			a, err := c.CreateAccount(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if f.json {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(a)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "AccountId        %s\nName             %s\nAccessKeyId      %s\nSecretAccessKey  %s\n", a.AccountId, a.Name, a.AccessKeyId, a.SecretAccessKey)
			return nil
		},
	}, &cobra.Command{
		Use: "list", Short: "List accounts", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			list, err := c.ListAccounts(cmd.Context())
			if err != nil || f.json {
				if err == nil {
					err = printJSON(cmd.OutOrStdout(), list)
				}
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT ID\tNAME\tCREATED")
			for _, a := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", a.AccountId, a.Name, a.CreatedAt.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}, newAccountDeleteCmd(f))
	return cmd
}

func newAccountDeleteCmd(f *adminFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete ACCOUNT",
		Short: "Delete an account (id or name); --force also removes everything it owns",
		Long: "Delete an account (id or name). An account that still has instances, VPCs, buckets, images,\n" +
			"snapshots or elastic IPs is refused with a list of them. --force revokes its keys at once,\n" +
			"terminates its instances (waiting for their nodes to stop them) and deletes everything it owns.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			return c.DeleteAccount(cmd.Context(), args[0], force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "revoke the account's keys and remove everything it owns")
	return cmd
}

func newKeyCmd(f *adminFlags) *cobra.Command {
	var account, user string
	cmd := &cobra.Command{Use: "key", Short: "Manage access keys of an account's root or users"}
	cmd.PersistentFlags().StringVar(&account, "account", "", "account id or name (required)")
	cmd.PersistentFlags().StringVar(&user, "user", "", "IAM user name (default: the account's root)")
	_ = cmd.MarkPersistentFlagRequired("account")
	cmd.AddCommand(&cobra.Command{
		Use: "create", Short: "Create an access key", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			k, err := c.CreateKey(cmd.Context(), account, user)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), k)
		},
	}, &cobra.Command{
		Use: "reset", Short: "Revoke every access key of the root (or --user) and create one new key", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			k, err := c.ResetKeys(cmd.Context(), account, user)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), k)
		},
	}, &cobra.Command{
		Use: "list", Short: "List access keys", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			keys, err := c.ListKeys(cmd.Context(), account, user)
			if err != nil || f.json {
				if err == nil {
					err = printJSON(cmd.OutOrStdout(), keys)
				}
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCESS KEY ID\tSTATUS\tCREATED")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", k.AccessKeyId, k.Status, k.CreateDate.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use: "delete KEY_ID", Short: "Delete an access key", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			return c.DeleteKey(cmd.Context(), account, user, args[0])
		},
	})
	return cmd
}
