package imds

import (
	"testing"

	"github.com/kumo-cloud/kumo/internal/dnsname"
)

// The metadata service names the instance as DescribeInstances does
// (dnsname): hostname, local-hostname and public-hostname were the bare
// public IP before, while PublicDnsName said ec2-…compute.kumo.
func TestNamesAgreeWithDNSName(t *testing.T) {
	for _, region := range []string{"kumo-1", "us-east-1"} {
		in := bareInstance()
		in.Region, in.PrivateIP, in.PublicIP = region, "172.31.0.4", "198.51.100.2"
		in.Interfaces = []Interface{{DeviceNumber: 1, MAC: "52:54:00:ab:cd:02", PrivateIPs: []string{"172.31.0.9"}, PublicIP: "198.51.100.3"}}
		s := newServer(fixed(in), nil)
		nic := "/latest/meta-data/network/interfaces/macs/52:54:00:ab:cd:02/"
		for path, want := range map[string]string{
			"/latest/meta-data/hostname":        dnsname.Private(region, "172.31.0.4"),
			"/latest/meta-data/local-hostname":  dnsname.Private(region, "172.31.0.4"),
			"/latest/meta-data/public-hostname": dnsname.Public(region, "198.51.100.2"),
			nic + "local-hostname":              dnsname.Private(region, "172.31.0.9"),
			nic + "public-hostname":             dnsname.Public(region, "198.51.100.3"),
		} {
			if code, body := get(t, s, path); code != 200 || body != want {
				t.Errorf("%s: GET %s: %d %q, want %q", region, path, code, body, want)
			}
		}
	}
	if got := dnsname.Public("kumo-1", "198.51.100.2"); got != "ec2-198-51-100-2.kumo-1.compute.kumo" {
		t.Errorf("public name %q", got)
	}
}

// openssh-key is the key followed by the key pair's name, as AWS serves
// it (cloud-init shows the name in its key table): an imported key without
// a comment, or with a comment of its own, and a created one.
func TestOpenSSHKeyCarriesKeyName(t *testing.T) {
	for _, c := range []struct{ stored, name, want string }{
		{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk", "my-key-pair", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk my-key-pair"},
		{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk alice@laptop\n", "imported", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk imported"},
		{"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n", "created", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ created"},
	} {
		in := fullInstance()
		in.PublicKey, in.KeyName = c.stored, c.name
		s := newServer(fixed(in), nil)
		if code, body := get(t, s, "/latest/meta-data/public-keys/0/openssh-key"); code != 200 || body != c.want {
			t.Errorf("openssh-key of %q named %q: %d %q, want %q", c.stored, c.name, code, body, c.want)
		}
		if code, body := get(t, s, "/latest/meta-data/public-keys/"); code != 200 || body != "0="+c.name {
			t.Errorf("public-keys/: %d %q", code, body)
		}
	}
}

// enableDnsHostnames off: no public names, as DescribeInstances.
func TestNoPublicHostname(t *testing.T) {
	in := bareInstance()
	in.PublicIP, in.NoPublicHostname = "198.51.100.2", true
	in.Interfaces = []Interface{{DeviceNumber: 1, MAC: "52:54:00:ab:cd:02", PrivateIPs: []string{"10.0.1.9"}, PublicIP: "198.51.100.3"}}
	s := newServer(fixed(in), nil)
	for _, path := range []string{"/latest/meta-data/public-hostname", "/latest/meta-data/network/interfaces/macs/52:54:00:ab:cd:02/public-hostname",
		"/latest/meta-data/network/interfaces/macs/52:54:00:ab:cd:01/public-hostname"} {
		if code, body := get(t, s, path); code != 404 {
			t.Errorf("GET %s: %d %q, want 404", path, code, body)
		}
	}
	if code, body := get(t, s, "/latest/meta-data/public-ipv4"); code != 200 || body != "198.51.100.2" {
		t.Errorf("public-ipv4: %d %q", code, body)
	}
}
