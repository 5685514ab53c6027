package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/node"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

type nodeFlags struct {
	server, joinToken, dataDir, name, zone, netnsPrefix, logFormat string
	underlay, metricsListen, hostNetns, uplink                     string
	accel                                                          string
	volumeBackend, volumeExportAddr                                string
	dnsUpstreams                                                   []string
	exposeToHost                                                   bool
	vcpus                                                          int
	memoryMiB                                                      int64
}

func (f *nodeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.server, "server", "127.0.0.1:8776", "host:port of the server's node listener")
	fs.StringVar(&f.joinToken, "join-token", "", "join token from the server (needed only the first time, while --data-dir holds no certificate)")
	fs.StringVar(&f.dataDir, "data-dir", "/var/lib/kumo-node", "directory for the node's certificate, image cache and guests")
	fs.StringVar(&f.name, "name", "", "node name (default: the host name)")
	fs.StringVar(&f.zone, "zone", "kumo-1a", "availability zone this node is in")
	fs.StringVar(&f.netnsPrefix, "netns-prefix", "kumo", "prefix of the VPC network namespaces' names")
	fs.BoolVar(&f.exposeToHost, "expose-to-host", false, "route the VPCs' private addresses from this host")
	fs.IntVar(&f.vcpus, "vcpus", 0, "vCPUs offered to guests (default: the host's CPUs)")
	fs.Int64Var(&f.memoryMiB, "memory-mib", 0, "memory offered to guests, MiB (default: the host's less 1 GiB)")
	fs.StringVar(&f.underlay, "underlay-address", "", "this host's IP address the other nodes reach, the VXLAN endpoint of the VPCs (default: none, guests reach only guests on this node)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "address to serve Prometheus metrics on at /metrics, e.g. :9102 (default: off)")
	fs.StringVar(&f.hostNetns, "host-netns", "", "network namespace (path, e.g. /run/netns/x) holding the underlay and the host side of guest networks (default: this process's)")
	fs.StringVar(&f.uplink, "uplink", "", "host interface on the operator's public network: guests' elastic IPs are answered for (proxy ARP) and forwarded through it, and guests reach nothing beyond this host any other way (default: none, public addresses reach only this host)")
	fs.StringVar(&f.accel, "accel", qemu.ChooseAuto, accelUsage)
	fs.StringVar(&f.logFormat, "log-format", "", "json or text (default: text on a terminal, json otherwise)")
	fs.StringVar(&f.volumeBackend, "volume-backend", "local", volumeBackendUsage)
	registerDNSUpstream(fs, &f.dnsUpstreams)
	registerVolumeExport(fs, &f.volumeExportAddr)
}

// registerVolumeExport adds --volume-export-addr (kumo node and kumo dev).
func registerVolumeExport(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "volume-export-addr", "", "IP:port where this node serves the volumes it holds over NBD to the other nodes of its zone "+
		"(default: the underlay address, 127.0.0.1 without one, port 10809; none with --host-netns)")
}

// registerDNSUpstream adds --dns-upstream (kumo node and kumo dev).
func registerDNSUpstream(fs *pflag.FlagSet, p *[]string) {
	fs.StringSliceVar(p, "dns-upstream", nil, "resolver (IP[:port], repeatable) the VPC resolver forwards names other than Kumo's to (default: none, only Kumo's names resolve, others are refused)")
}

func (f *nodeFlags) options() (node.Options, error) {
	if f.zone == "" {
		return node.Options{}, errors.New("--zone must not be empty")
	}
	if len(f.uplink) > 15 || strings.ContainsAny(f.uplink, "/ \t") {
		return node.Options{}, fmt.Errorf("--uplink %q: not an interface name", f.uplink)
	}
	if err := absPaths(map[string]*string{"data-dir": &f.dataDir, "host-netns": &f.hostNetns}); err != nil {
		return node.Options{}, err
	}
	if err := checkAccelFlag(f.accel); err != nil {
		return node.Options{}, err
	}
	if f.underlay != "" {
		if _, err := netip.ParseAddr(f.underlay); err != nil {
			return node.Options{}, fmt.Errorf("--underlay-address: %w", err)
		}
	}
	if err := checkVolumeBackend(f.volumeBackend); err != nil {
		return node.Options{}, err
	}
	if err := checkHostPort("volume-export-addr", f.volumeExportAddr); err != nil {
		return node.Options{}, err
	}
	if _, err := node.ParseUpstreams(f.dnsUpstreams); err != nil {
		return node.Options{}, fmt.Errorf("--dns-upstream: %w", err)
	}
	return node.Options{
		Server: f.server, JoinToken: f.joinToken, DataDir: f.dataDir, Name: f.name, Zone: f.zone, Version: Version,
		NetnsPrefix: f.netnsPrefix, ExposeToHost: f.exposeToHost,
		UnderlayAddress: f.underlay, MetricsListen: f.metricsListen, HostNetns: f.hostNetns, Uplink: f.uplink,
		Capacity: nodeapi.Capacity{VCPUs: f.vcpus, MemoryMiB: f.memoryMiB},
		Accel:    f.accel,
		Logger:   newLogger(os.Stderr, f.logFormat), DNSUpstreams: f.dnsUpstreams,
		VolumeExportAddr: f.volumeExportAddr,
	}, nil
}

func newNodeAgentCmd() *cobra.Command {
	var f nodeFlags
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run the node agent: QEMU guests, their networks, DHCP and metadata",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Geteuid() != 0 {
				return errors.New("kumo node must run as root: it creates network namespaces, taps and QEMU guests")
			}
			o, err := f.options()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o.Logger.Info("kumo node starting", "server", o.Server, "dataDir", o.DataDir, "zone", o.Zone)
			err = node.Start(ctx, o)
			if errors.Is(err, context.Canceled) {
				err = nil
			}
			return err
		},
	}
	f.register(cmd.Flags())
	return cmd
}
