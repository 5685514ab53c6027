package imds

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestPaths(t *testing.T) {
	s := newServer(fixed(fullInstance()), nil)
	mdList := strings.Join([]string{"ami-id", "ami-launch-index", "ami-manifest-path",
		"block-device-mapping/", "hostname", "instance-action", "instance-id",
		"instance-life-cycle", "instance-type", "local-hostname", "local-ipv4", "mac",
		"network/", "placement/", "profile", "public-keys/", "reservation-id",
		"security-groups", "services/"}, "\n")
	nic := "/latest/meta-data/network/interfaces/macs/52:54:00:ab:cd:01/"
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/", 200, versionList},
		{"/latest", 200, "dynamic\nmeta-data\nuser-data"},
		{"/latest/", 200, "dynamic\nmeta-data\nuser-data"},
		{"/2009-04-04/meta-data/instance-id", 200, "i-0a1b2c3d4e5f60718"},
		{"/2021-03-23/meta-data/", 200, mdList},
		{"/latest/meta-data", 200, mdList},
		{"/latest/meta-data/ami-id", 200, "ami-0123456789abcdef0"},
		{"/latest/meta-data/ami-launch-index", 200, "0"},
		{"/latest/meta-data/ami-manifest-path", 200, "(unknown)"},
		{"/latest/meta-data/block-device-mapping/", 200, "ami\nroot"},
		{"/latest/meta-data/block-device-mapping/root", 200, "/dev/xvda"},
		{"/latest/meta-data/hostname", 200, "ip-10-0-1-5.eu-west-1.compute.internal"},
		{"/latest/meta-data/local-hostname", 200, "ip-10-0-1-5.eu-west-1.compute.internal"},
		{"/latest/meta-data/instance-action", 200, "none"},
		{"/latest/meta-data/instance-id/", 200, "i-0a1b2c3d4e5f60718"},
		{"/latest/meta-data/instance-life-cycle", 200, "on-demand"},
		{"/latest/meta-data/instance-type", 200, "t3.micro"},
		{"/latest/meta-data/local-ipv4", 200, "10.0.1.5"},
		{"/latest/meta-data/mac", 200, "52:54:00:ab:cd:01"},
		{"/latest/meta-data/network/interfaces/macs/", 200, "52:54:00:ab:cd:01/"},
		{nic, 200, "device-number\ninterface-id\nlocal-hostname\nlocal-ipv4s\nmac\nowner-id\n" +
			"security-group-ids\nsecurity-groups\nsubnet-id\nsubnet-ipv4-cidr-block\n" +
			"vpc-id\nvpc-ipv4-cidr-block\nvpc-ipv4-cidr-blocks"},
		{nic + "device-number", 200, "0"},
		{nic + "interface-id", 200, "eni-0123456789abcdef0"},
		{nic + "local-ipv4s", 200, "10.0.1.5"},
		{nic + "owner-id", 200, "123456789012"},
		{nic + "security-group-ids", 200, "sg-0000000000000000a\nsg-0000000000000000b"},
		{nic + "subnet-ipv4-cidr-block", 200, "10.0.1.0/24"},
		{nic + "vpc-ipv4-cidr-blocks", 200, "10.0.0.0/16"},
		{"/latest/meta-data/network/interfaces/macs/52:54:00:AB:CD:01/", 404, ""},
		{"/latest/meta-data/placement/", 200, "availability-zone\nregion"},
		{"/latest/meta-data/placement/availability-zone", 200, "eu-west-1a"},
		{"/latest/meta-data/placement/region", 200, "eu-west-1"},
		{"/latest/meta-data/profile", 200, "default-hvm"},
		{"/latest/meta-data/public-keys/", 200, "0=k1"},
		{"/latest/meta-data/public-keys/0", 200, "openssh-key"},
		{"/latest/meta-data/public-keys/0/", 200, "openssh-key"},
		{"/latest/meta-data/public-keys/0/openssh-key", 200, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk k1"},
		{"/latest/meta-data/public-keys/0=k1", 404, ""},
		{"/latest/meta-data/public-keys/1/openssh-key", 404, ""},
		{"/latest/meta-data/reservation-id", 200, "r-0123456789abcdef0"},
		{"/latest/meta-data/security-groups", 200, "default\nweb"},
		{"/latest/meta-data/services/", 200, "domain\npartition"},
		{"/latest/meta-data/services/domain", 200, "amazonaws.com"},
		{"/latest/meta-data/services/partition", 200, "aws"},
		{"/latest/meta-data/public-ipv4", 404, ""},
		{"/latest/meta-data/kernel-id", 404, ""},
		{"/latest/meta-data/tags/instance", 404, ""},
		{"/latest/meta-data/iam/security-credentials/", 404, ""},
		{"/latest/meta-data/instance-id/x", 404, ""},
		{"/latest/user-data", 200, "#!/bin/sh\necho hello\n"},
		{"/2016-09-02/user-data", 200, "#!/bin/sh\necho hello\n"},
		{"/latest/dynamic/", 200, "instance-identity/"},
		{"/latest/dynamic/instance-identity", 200, "document"},
		{"/latest/dynamic/instance-identity/", 200, "document"},
		{"/latest/dynamic/instance-identity/pkcs7", 404, ""},
		{"/2021-03-24/meta-data/instance-id", 404, ""},
		{"/2022-09-24/meta-data/instance-id", 404, ""},
		{"/latest//meta-data/", 404, ""},
		{"//", 404, ""},
		{"/latest/meta-data/../user-data", 404, ""},
		{"/LATEST/meta-data/", 404, ""},
		{"/latest/api/", 404, ""},
	}
	for _, tc := range tests {
		code, body := get(t, s, tc.path)
		if code != tc.code {
			t.Errorf("GET %s: %d, want %d (%q)", tc.path, code, tc.code, body)
			continue
		}
		if tc.code == 200 && body != tc.body {
			t.Errorf("GET %s:\n got %q\nwant %q", tc.path, body, tc.body)
		}
	}
}

func TestOptionalEntries(t *testing.T) {
	in := bareInstance()
	in.PublicIP, in.KernelID, in.RamdiskID, in.AvailabilityZoneID = "203.0.113.7", "aki-1", "ari-1", "euw1-az1"
	in.LocalHostname, in.RootDeviceName = "web1.internal", "/dev/vda"
	s := newServer(fixed(in), nil)
	nic := "/latest/meta-data/network/interfaces/macs/52:54:00:ab:cd:01/"
	tests := map[string]string{
		"/latest/meta-data/public-ipv4":                    "203.0.113.7",
		"/latest/meta-data/public-hostname":                "ec2-203-0-113-7.eu-west-1.compute.kumo",
		"/latest/meta-data/kernel-id":                      "aki-1",
		"/latest/meta-data/ramdisk-id":                     "ari-1",
		"/latest/meta-data/placement/availability-zone-id": "euw1-az1",
		"/latest/meta-data/hostname":                       "web1.internal",
		"/latest/meta-data/local-hostname":                 "web1.internal",
		"/latest/meta-data/block-device-mapping/ami":       "/dev/vda",
		nic + "public-ipv4s":                               "203.0.113.7",
		nic + "ipv4-associations/":                         "203.0.113.7",
		nic + "ipv4-associations/203.0.113.7":              "10.0.1.5",
		"/latest/":                                         "dynamic\nmeta-data",
	}
	for path, want := range tests {
		if code, body := get(t, s, path); code != 200 || body != want {
			t.Errorf("GET %s: %d %q, want %q", path, code, body, want)
		}
	}
	for _, path := range []string{"/latest/user-data", "/latest/meta-data/public-keys/", "/latest/meta-data/public-keys/0/openssh-key"} {
		if code, _ := get(t, s, path); code != 404 {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	in.Region = "us-east-1"
	in.LocalHostname = ""
	if _, body := get(t, s, "/latest/meta-data/local-hostname"); body != "ip-10-0-1-5.ec2.internal" {
		t.Errorf("us-east-1 local-hostname: %q", body)
	}
}

func TestContentTypesAndHead(t *testing.T) {
	s := newServer(fixed(fullInstance()), nil)
	for path, ctype := range map[string]string{
		"/latest/meta-data/":        "text/plain",
		"/latest/meta-data/mac":     "text/plain",
		"/latest/user-data":         "application/octet-stream",
		"/latest/meta-data/nothing": "text/html",
	} {
		_, _, h := do(t, s, http.MethodGet, path, nil)
		if got := h.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want %q", path, got, ctype)
		}
	}
	code, body, h := do(t, s, http.MethodHead, "/latest/meta-data/instance-id", nil)
	if code != 200 || body != "" || h.Get("Content-Length") != "19" {
		t.Errorf("HEAD: %d %q length %q", code, body, h.Get("Content-Length"))
	}
}

func TestMethods(t *testing.T) {
	s := newServer(fixed(fullInstance()), nil)
	tests := []struct {
		method, path, allow string
	}{
		{http.MethodPost, "/latest/meta-data/", "GET, HEAD"},
		{http.MethodDelete, "/latest/user-data", "GET, HEAD"},
		{http.MethodOptions, "/", "GET, HEAD"},
		{http.MethodPut, "/latest/meta-data/instance-id", "GET, HEAD"},
		{http.MethodPut, "/2021-03-23/api/token", "GET, HEAD"},
		{http.MethodGet, "/latest/api/token", "PUT"},
		{http.MethodHead, "/latest/api/token", "PUT"},
		{http.MethodPost, "/latest/api/token", "PUT"},
	}
	for _, tc := range tests {
		code, _, h := do(t, s, tc.method, tc.path, map[string]string{HeaderTokenTTL: "60"})
		if code != http.StatusMethodNotAllowed || h.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 %q", tc.method, tc.path, code, h.Get("Allow"), tc.allow)
		}
	}
}

func TestLookupErrors(t *testing.T) {
	tests := []struct {
		name string
		s    *Server
		code int
	}{
		{"unknown", newServer(byHost(nil), nil), 404},
		{"nil instance", newServer(func(*http.Request) (*Instance, error) { return nil, nil }, nil), 404},
		{"wrapped unknown", newServer(func(*http.Request) (*Instance, error) {
			return nil, errors.Join(errors.New("tap9"), ErrUnknownInstance)
		}, nil), 404},
		{"store down", newServer(func(*http.Request) (*Instance, error) { return nil, errors.New("db") }, nil), 500},
		{"no lookup", &Server{TokenKey: testKey()}, 500},
	}
	for _, tc := range tests {
		if code, _ := get(t, tc.s, "/latest/meta-data/instance-id"); code != tc.code {
			t.Errorf("%s: GET %d, want %d", tc.name, code, tc.code)
		}
		code, _, _ := do(t, tc.s, http.MethodPut, "/latest/api/token", map[string]string{HeaderTokenTTL: "60"})
		if code != tc.code {
			t.Errorf("%s: PUT %d, want %d", tc.name, code, tc.code)
		}
	}
}

func TestEveryVersionServes(t *testing.T) {
	s := newServer(fixed(fullInstance()), nil)
	_, list := get(t, s, "/")
	versions := strings.Split(list, "\n")
	for _, want := range []string{"latest", "2009-04-04", "2016-09-02", "2018-09-24", "2021-03-23"} {
		if !strings.Contains("\n"+list+"\n", "\n"+want+"\n") {
			t.Errorf("GET / lacks %s", want)
		}
	}
	if versions[len(versions)-2] != "2021-03-23" || versions[len(versions)-1] != "latest" {
		t.Errorf("GET / should end with 2021-03-23, latest: %q", versions)
	}
	for _, v := range versions {
		if code, body := get(t, s, "/"+v+"/meta-data/instance-id"); code != 200 || body != "i-0a1b2c3d4e5f60718" {
			t.Errorf("version %s: %d %q", v, code, body)
		}
	}
}

// TestSeveralInterfaces: the primary interface's secondary addresses and
// every further interface are under network/interfaces/macs/, as
// cloud-init reads them to configure each NIC.
func TestSeveralInterfaces(t *testing.T) {
	in := fullInstance()
	in.SecondaryIPs = []string{"10.0.1.6"}
	in.Interfaces = []Interface{{DeviceNumber: 1, InterfaceID: "eni-0b", MAC: "02:00:00:00:00:0B", PrivateIPs: []string{"10.0.2.9", "10.0.2.10"},
		PublicIP: "203.0.113.9", SubnetID: "subnet-b", SubnetCIDR: "10.0.2.0/24", VPCID: "vpc-1", VPCCIDR: "10.0.0.0/16",
		SecurityGroups: []string{"db"}, SecurityGroupIDs: []string{"sg-db"}}}
	s := newServer(fixed(in), nil)
	macs := "/latest/meta-data/network/interfaces/macs/"
	x := macs + "02:00:00:00:00:0b/"
	for path, want := range map[string]string{
		macs:                                     "52:54:00:ab:cd:01/\n02:00:00:00:00:0b/",
		macs + "52:54:00:ab:cd:01/local-ipv4s":   "10.0.1.5\n10.0.1.6",
		macs + "52:54:00:ab:cd:01/device-number": "0",
		x + "device-number":                      "1",
		x + "interface-id":                       "eni-0b",
		x + "mac":                                "02:00:00:00:00:0b",
		x + "local-ipv4s":                        "10.0.2.9\n10.0.2.10",
		x + "local-hostname":                     "ip-10-0-2-9.eu-west-1.compute.internal",
		x + "public-ipv4s":                       "203.0.113.9",
		x + "ipv4-associations/203.0.113.9":      "10.0.2.9",
		x + "subnet-id":                          "subnet-b",
		x + "subnet-ipv4-cidr-block":             "10.0.2.0/24",
		x + "security-group-ids":                 "sg-db",
		x + "security-groups":                    "db",
		"/latest/meta-data/mac":                  "52:54:00:ab:cd:01",
		"/latest/meta-data/local-ipv4":           "10.0.1.5",
	} {
		if code, body := get(t, s, path); code != 200 || body != want {
			t.Errorf("GET %s: %d %q, want %q", path, code, body, want)
		}
	}
}
