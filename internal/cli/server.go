package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kumo-cloud/kumo/internal/controller"
	"github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/ldapauth"
	"github.com/kumo-cloud/kumo/internal/s3/backend/remote"
)

type serverFlags struct {
	dataDir, database, ec2Listen, adminListen, region, zones, instanceTypes, logFormat, demoImage string
	s3Listen, s3BackendEndpoint, s3BackendRegion, s3BackendPrefix                                 string
	nodeListen, publicIPs, ldapConfig                                                             string
	vcpuOvercommit                                                                                float64
	nodeNames                                                                                     []string
}

func (f *serverFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", "./data", "directory for the SQLite database, keys and the admin credential")
	fs.StringVar(&f.database, "database", "", "database URL: empty for SQLite in the data dir, or postgres://user@host/db")
	fs.StringVar(&f.ec2Listen, "ec2-listen", "127.0.0.1:8773", "address of the EC2/IAM/STS API")
	fs.StringVar(&f.adminListen, "admin-listen", "127.0.0.1:8775", "address of the admin API and /metrics")
	fs.StringVar(&f.s3Listen, "s3-listen", "127.0.0.1:8774", "address of the S3 API")
	fs.StringVar(&f.s3BackendEndpoint, "s3-backend-endpoint", "", "keep objects in this external S3 (http(s)://host:port: MinIO, Ceph RGW, another Kumo) instead of <data-dir>/objects; "+
		"its key comes from $KUMO_S3_BACKEND_ACCESS_KEY_ID and $KUMO_S3_BACKEND_SECRET_ACCESS_KEY")
	fs.StringVar(&f.s3BackendRegion, "s3-backend-region", "us-east-1", "region of the external S3")
	fs.StringVar(&f.s3BackendPrefix, "s3-backend-bucket-prefix", "kumo-", "prefix of Kumo's bucket names in the external S3")
	fs.Float64Var(&f.vcpuOvercommit, "vcpu-overcommit", 4, "guest vCPUs placed per host CPU (memory is never overcommitted)")
	fs.StringVar(&f.nodeListen, "node-listen", ":8776", "address nodes connect to (gRPC over mutual TLS; kumo node --server)")
	fs.StringSliceVar(&f.nodeNames, "node-server-name", nil, "extra DNS name or address of this server for the certificate nodes see (repeatable)")
	fs.StringVar(&f.region, "region", "kumo-1", "region name")
	fs.StringVar(&f.publicIPs, "public-ips", "", "public IPv4 addresses for elastic IPs: CIDR blocks and first-last ranges, comma separated (192.0.2.0/24,198.51.100.10-198.51.100.20)")
	fs.StringVar(&f.zones, "zones", "a,b,c", "availability zone suffixes (kumo-1a, kumo-1b, ...) or full names, comma separated")
	fs.StringVar(&f.instanceTypes, "instance-types", "", "JSON file with the instance type catalogue (default: t3.nano ... m5.2xlarge)")
	fs.StringVar(&f.logFormat, "log-format", "", "json or text (default: text on a terminal, json otherwise)")
	fs.StringVar(&f.ldapConfig, "ldap-config", "", "JSON file with the LDAP/AD directory, bind account, searches and group → account/role mappings; enables POST /kumo/login for kumo login (docs/ldap.md)")
	fs.StringVar(&f.demoImage, "demo-image", "", "directory with the demo guest's vmlinuz and initrd.img (images/demo/build.sh) to register as the public image kumo-demo")
}

func (f *serverFlags) config() (controller.Config, error) {
	if f.region == "" {
		return controller.Config{}, fmt.Errorf("--region must not be empty")
	}
	var zones []string
	for _, z := range strings.Split(f.zones, ",") {
		z = strings.TrimSpace(z)
		if z == "" {
			continue
		}
		if !strings.HasPrefix(z, f.region) {
			z = f.region + z
		}
		zones = append(zones, z)
	}
	if len(zones) == 0 {
		return controller.Config{}, fmt.Errorf("--zones must name at least one zone")
	}
	if err := absPaths(map[string]*string{"data-dir": &f.dataDir, "demo-image": &f.demoImage, "instance-types": &f.instanceTypes}); err != nil {
		return controller.Config{}, err
	}
	var ldapCfg *ldapauth.Config
	if f.ldapConfig != "" {
		c, err := ldapauth.LoadConfig(f.ldapConfig)
		if err != nil {
			return controller.Config{}, fmt.Errorf("--ldap-config: %w", err)
		}
		ldapCfg = &c
	}
	pool, err := ec2.ParseAddressPool(f.publicIPs)
	if err != nil {
		return controller.Config{}, fmt.Errorf("--public-ips: %w", err)
	}
	return controller.Config{PublicIPs: pool, DataDir: f.dataDir, Database: f.database, EC2Listen: f.ec2Listen, AdminListen: f.adminListen,
		S3Listen: f.s3Listen, S3Remote: f.s3Remote(), NodeListen: f.nodeListen, NodeNames: f.nodeNames, VCPUOvercommit: f.vcpuOvercommit,
		Region: f.region, Zones: zones, InstanceTypesFile: f.instanceTypes, Logger: newLogger(os.Stderr, f.logFormat), DemoImage: f.demoImage, LDAP: ldapCfg}, nil
}

// s3Remote configures the external S3 backend; its secret comes from the
// environment, never from the command line.
func (f *serverFlags) s3Remote() remote.Config {
	if f.s3BackendEndpoint == "" {
		return remote.Config{}
	}
	return remote.Config{Endpoint: f.s3BackendEndpoint, Region: f.s3BackendRegion, BucketPrefix: f.s3BackendPrefix,
		AccessKeyID: os.Getenv("KUMO_S3_BACKEND_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("KUMO_S3_BACKEND_SECRET_ACCESS_KEY")}
}

func newServerCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the cloud controller: APIs, database, reconcilers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return err
			}
			return runController(cmd.Context(), cfg, nil)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// runController starts the controller, calls ready, and serves until SIGINT/SIGTERM.
func runController(ctx context.Context, cfg controller.Config, ready func(*controller.Controller)) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := controller.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(c)
	}
	werr := c.Wait(ctx)
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cfg.Logger.Info("kumo server stopping")
	if err := c.Close(shutdown); err != nil && werr == nil {
		werr = err
	}
	return werr
}
