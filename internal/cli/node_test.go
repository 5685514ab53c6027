package cli

import (
	"testing"

	"github.com/spf13/pflag"
)

func TestNodeNetworkFlags(t *testing.T) {
	parse := func(args ...string) (nodeFlags, error) {
		var f nodeFlags
		fs := pflag.NewFlagSet("node", pflag.ContinueOnError)
		f.register(fs)
		return f, fs.Parse(args)
	}
	f, err := parse("--underlay-address", "198.18.0.1", "--metrics-listen", "127.0.0.1:9102", "--uplink", "eth1")
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.options()
	if err != nil {
		t.Fatal(err)
	}
	if o.UnderlayAddress != "198.18.0.1" || o.MetricsListen != "127.0.0.1:9102" || o.Uplink != "eth1" {
		t.Errorf("options = %+v", o)
	}
	f, _ = parse()
	if o, err := f.options(); err != nil || o.UnderlayAddress != "" || o.MetricsListen != "" {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	f, _ = parse("--uplink", "a-name-too-long-for-linux")
	if _, err := f.options(); err == nil {
		t.Error("a 25-character uplink accepted")
	}
	f, _ = parse()
	if o, _ := f.options(); o.Accel != "auto" {
		t.Errorf("--accel defaults to %q, want auto", o.Accel)
	}
	for _, v := range []string{"auto", "kvm", "tcg"} {
		f, _ = parse("--accel", v)
		if o, err := f.options(); err != nil || o.Accel != v {
			t.Errorf("--accel %s: %+v, %v", v, o.Accel, err)
		}
	}
	f, _ = parse("--accel", "xen")
	if _, err := f.options(); err == nil {
		t.Error("--accel xen accepted")
	}
	f, _ = parse("--underlay-address", "node-2")
	if _, err := f.options(); err == nil {
		t.Error("a host name accepted as the underlay address")
	}
}
