package sgfilter

import (
	"fmt"
	"os"
	"strings"

	"github.com/kumo-cloud/kumo/internal/netnsrun"
)

// bridge-nf-call-* make bridged IPv4/IPv6 go through the inet hooks, where
// conntrack and the security-group chains are (the kernel's bridge family
// has conntrack only with nf_conntrack_bridge, which we do not rely on).
var brnfFiles = []string{
	"/proc/sys/net/bridge/bridge-nf-call-iptables",
	"/proc/sys/net/bridge/bridge-nf-call-ip6tables",
}

func enableBridgeNetfilter(netnsPath string) error {
	return inNetns(netnsPath, func() error {
		for _, f := range brnfFiles {
			if err := os.WriteFile(f, []byte("1\n"), 0o644); err != nil {
				return fmt.Errorf("enable br_netfilter: %w", err)
			}
		}
		return nil
	})
}

func bridgeNetfilterEnabled(netnsPath string) (bool, error) {
	on := true
	err := inNetns(netnsPath, func() error {
		for _, f := range brnfFiles {
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("read br_netfilter setting: %w", err)
			}
			on = on && strings.TrimSpace(string(b)) == "1"
		}
		return nil
	})
	return on, err
}

// inNetns runs fn inside the namespace (netnsrun.Do).
func inNetns(netnsPath string, fn func() error) error { return netnsrun.Do(netnsPath, fn) }
