package cli

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"

	"github.com/kumo-cloud/kumo/internal/node"
)

func TestDNSUpstreamFlag(t *testing.T) {
	parse := func(args ...string) (nodeFlags, error) {
		var f nodeFlags
		fs := pflag.NewFlagSet("node", pflag.ContinueOnError)
		f.register(fs)
		return f, fs.Parse(args)
	}
	f, err := parse("--dns-upstream", "10.0.0.53:53", "--dns-upstream", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.options()
	if err != nil {
		t.Fatal(err)
	}
	got, err := node.ParseUpstreams(o.DNSUpstreams)
	if err != nil || !slices.Equal(got, []string{"10.0.0.53:53", "192.0.2.1:53"}) {
		t.Errorf("upstreams %v %v", got, err)
	}
	if f, _ = parse(); len(f.dnsUpstreams) != 0 {
		t.Errorf("default upstreams %v, want none", f.dnsUpstreams)
	}
	f, _ = parse("--dns-upstream", "dns.example:53")
	if _, err := f.options(); err == nil {
		t.Error("a host name accepted as an upstream")
	}
}
