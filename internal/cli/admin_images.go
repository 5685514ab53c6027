package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kumo-cloud/kumo/internal/admin"
)

func newImageCmd(f *adminFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Register public kernels, ramdisks and machine images"}
	cmd.AddCommand(bootFileCmd(f, "kernel"), bootFileCmd(f, "ramdisk"), machineCmd(f), demoCmd(f))
	return cmd
}

func bootFileCmd(f *adminFlags, kind string) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use: "register-" + kind + " FILE", Short: "Upload a " + kind + " and register it as a public image", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if name == "" {
				name = filepath.Base(args[0])
			}
			img, err := uploadBootFile(cmd.Context(), c, kind, name, args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), img)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "image name (default: the file name)")
	return cmd
}

func uploadBootFile(ctx context.Context, c *admin.Client, kind, name, path string) (admin.RegisteredImage, error) {
	file, err := os.Open(path)
	if err != nil {
		return admin.RegisteredImage{}, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return admin.RegisteredImage{}, err
	}
	p := newProgress(file, os.Stderr, "upload "+filepath.Base(path), fi.Size())
	defer p.finish()
	return c.RegisterBootFile(ctx, kind, name, p, fi.Size())
}

func machineCmd(f *adminFlags) *cobra.Command {
	var req admin.MachineImageRequest
	cmd := &cobra.Command{
		Use: "register-machine", Short: "Register a public machine image that boots a registered kernel and ramdisk", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			img, err := c.RegisterMachine(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), img)
		},
	}
	cmd.Flags().StringVar(&req.Name, "name", "", "image name (required)")
	cmd.Flags().StringVar(&req.Description, "description", "", "description")
	cmd.Flags().StringVar(&req.KernelId, "kernel", "", "aki- id (required)")
	cmd.Flags().StringVar(&req.RamdiskId, "ramdisk", "", "ari- id")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("kernel")
	return cmd
}

// demoCmd registers the demo image built by images/demo/build.sh: its
// kernel, its ramdisk and the public machine image "kumo-demo". Running it
// again changes nothing.
func demoCmd(f *adminFlags) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use: "register-demo DIR", Short: "Register the demo image (vmlinuz and initrd.img in DIR) as the public image kumo-demo", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			kernel, err := uploadBootFile(cmd.Context(), c, "kernel", name+"-kernel", filepath.Join(args[0], "vmlinuz"))
			if err != nil {
				return fmt.Errorf("demo kernel: %w", err)
			}
			ramdisk, err := uploadBootFile(cmd.Context(), c, "ramdisk", name+"-ramdisk", filepath.Join(args[0], "initrd.img"))
			if err != nil {
				return fmt.Errorf("demo ramdisk: %w", err)
			}
			img, err := c.RegisterMachine(cmd.Context(), admin.MachineImageRequest{Name: name, KernelId: kernel.ImageId, RamdiskId: ramdisk.ImageId,
				Description: "Kumo demo guest: busybox, DHCP, reads the metadata service, runs #! user-data"})
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), img)
		},
	}
	cmd.Flags().StringVar(&name, "name", "kumo-demo", "machine image name")
	return cmd
}
