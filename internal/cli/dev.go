package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kumo-cloud/kumo/internal/admin"
	"github.com/kumo-cloud/kumo/internal/controller"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/node"
)

// DevPublicIPs is kumo dev's elastic IP pool: a documentation range
// (RFC 5737), routed from this host only (the dev node has no uplink).
const DevPublicIPs = "198.51.100.0/24"

func newDevCmd() *cobra.Command {
	var f serverFlags
	var noNode bool
	var netnsPrefix string
	var accel string
	var reset bool
	var dnsUpstreams []string
	var volumeExportAddr string
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a whole cloud on this machine with an embedded database",
		Long: "kumo dev runs every role in one process with SQLite in the data directory: the controller\n" +
			"(EC2/IAM/STS, S3 and admin APIs) and one compute node (the same code as kumo node), whose\n" +
			"guests live in network namespaces routed from this host. The node needs root.\n\n" +
			"Guests keep running when kumo dev stops. kumo dev --reset removes them and everything else\n" +
			"the data dir's node put on this host (namespaces, routes, proxy entries, nftables table).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("node-listen") {
				f.nodeListen = "127.0.0.1:8776"
			}
			if !cmd.Flags().Changed("public-ips") {
				f.publicIPs = DevPublicIPs
			}
			cfg, err := f.config()
			if err != nil {
				return err
			}
			if err := checkHostPort("volume-export-addr", volumeExportAddr); err != nil {
				return err
			}
			withNode := !noNode && os.Geteuid() == 0
			var prefix string
			if withNode || reset {
				prefix, err = devNetnsPrefix(filepath.Join(cfg.DataDir, "node"), netnsPrefix, cmd.Flags().Changed("netns-prefix"), !reset)
				if err != nil {
					return err
				}
			}
			if reset {
				return devReset(cmd.OutOrStdout(), cfg.DataDir, prefix)
			}
			choice, err := devAccel(cmd.Context(), accel, noNode, cfg.Logger)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			return runController(ctx, cfg, func(c *controller.Controller) {
				giveAdminToSudoUser(cfg)
				printDevBanner(cmd, cfg, c)
				if noNode {
					return
				}
				if os.Geteuid() != 0 {
					cfg.Logger.Warn("no compute node: kumo dev must run as root to start guests (network namespaces, taps); run it with sudo, or use --no-node to silence this")
					return
				}
				go runDevNode(ctx, c, cfg, devNodeOptions{prefix: prefix, accel: choice, dnsUpstreams: dnsUpstreams, volumeExportAddr: volumeExportAddr})
			})
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().BoolVar(&noNode, "no-node", false, "run only the controller, without a compute node")
	cmd.Flags().StringVar(&netnsPrefix, "netns-prefix", "", "prefix of the guests' network namespaces, letters and digits (default: kumo and 6 random hex digits, recorded in the data dir)")
	cmd.Flags().BoolVar(&reset, "reset", false, "remove everything this data dir's node left on the host (guests, namespaces, routes, proxy entries, nftables table), then exit; the data dir is kept")
	cmd.Flags().StringVar(&accel, "accel", qemu.ChooseAuto, accelUsage)
	registerDNSUpstream(cmd.Flags(), &dnsUpstreams)
	registerVolumeExport(cmd.Flags(), &volumeExportAddr)
	return cmd
}

// devNodeOptions are kumo dev's flags for its node.
type devNodeOptions struct {
	prefix           string
	accel            *qemu.Choice
	dnsUpstreams     []string
	volumeExportAddr string
}

// runDevNode runs a compute node in this process with the code of kumo
// node, joined with a token the controller makes for it. The node's guests
// outlive the process, as they outlive a kumo node. Its volumes are the
// local backend's, in <data-dir>/node/volumes.
func runDevNode(ctx context.Context, c *controller.Controller, cfg controller.Config, o devNodeOptions) {
	token, err := c.Nodes.CreateJoinToken(ctx, time.Hour)
	if err != nil {
		cfg.Logger.Error("kumo dev: node join token; running without a compute node", "error", err)
		return
	}
	host, _ := os.Hostname()
	err = node.Start(ctx, node.Options{
		Server: loopbackAddr(c.NodeAddr), JoinToken: token, DataDir: filepath.Join(cfg.DataDir, "node"),
		Name: host, Zone: cfg.Zones[0], Version: Version, NetnsPrefix: o.prefix, ExposeToHost: true,
		Logger: cfg.Logger.With("role", "node"), AccelChoice: o.accel, DNSUpstreams: o.dnsUpstreams, VolumeExportAddr: o.volumeExportAddr,
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		// The APIs stay up: images, S3 and everything but guests still work.
		cfg.Logger.Error("kumo dev: the compute node stopped; the APIs keep running without it", "error", err)
	}
}

// giveAdminToSudoUser lets the user who ran `sudo kumo dev` (make dev does,
// for the node) use `kumo admin --data-dir` without sudo: the admin
// credential file and the data directory become theirs. The database and
// keys stay root's.
func giveAdminToSudoUser(cfg controller.Config) {
	uid, err1 := strconv.Atoi(os.Getenv("SUDO_UID"))
	gid, err2 := strconv.Atoi(os.Getenv("SUDO_GID"))
	if err1 != nil || err2 != nil || os.Geteuid() != 0 {
		return
	}
	for _, p := range []string{cfg.DataDir, filepath.Join(cfg.DataDir, admin.CredentialFile)} {
		if err := os.Chown(p, uid, gid); err != nil {
			cfg.Logger.Warn("kumo dev: give the admin credential to the sudo user", "path", p, "error", err)
		}
	}
}

// loopbackAddr is how a node in this process reaches a listener that may
// be bound to every interface.
func loopbackAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(a.String())
		return net.JoinHostPort("127.0.0.1", port)
	}
	return a.String()
}

func printDevBanner(cmd *cobra.Command, cfg controller.Config, c *controller.Controller) {
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		abs = cfg.DataDir
	}
	out := cmd.OutOrStdout()
	kumo := kumoCommand()
	fmt.Fprintf(out, `
Kumo is running.
  EC2/IAM/STS API  http://%[1]s   (region %[2]s, zones %[3]v)
  S3 API           http://%[6]s
  Admin API        http://%[4]s   (/metrics, /healthz)
  Data             %[5]s

Create a team account and use it with the AWS CLI:
  %[7]s admin --data-dir %[5]s account create team-a --json
  export AWS_ACCESS_KEY_ID=<AccessKeyId> AWS_SECRET_ACCESS_KEY=<SecretAccessKey> AWS_DEFAULT_REGION=%[2]s
  aws --endpoint-url http://%[1]s ec2 describe-vpcs
  aws --endpoint-url http://%[6]s s3 mb s3://team-a-images
  aws --endpoint-url http://%[1]s ec2 run-instances --image-id $(aws --endpoint-url http://%[1]s ec2 describe-images \
      --filters Name=name,Values=kumo-demo --query 'Images[0].ImageId' --output text) --instance-type t3.micro

Stop with Ctrl-C. Guests keep running; sudo %[7]s dev --reset --data-dir %[5]s removes them and
everything else this data dir put on the host (make dev-clean).
`, c.EC2Addr, cfg.Region, cfg.Zones, c.AdminAddr, abs, c.S3Addr, kumo)
}

// kumoCommand is how the user runs this binary from the directory they
// are in: "kumo" when that is the kumo on $PATH, else its path (bin/kumo
// after make dev), relative when it is below the working directory.
func kumoCommand() string {
	self, err := os.Executable()
	if err != nil {
		return "kumo"
	}
	if onPath, err := exec.LookPath("kumo"); err == nil && sameFile(onPath, self) {
		return "kumo"
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, self); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return self
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
