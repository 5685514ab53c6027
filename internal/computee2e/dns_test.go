package computee2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/kumo-cloud/kumo/internal/vpcdns/vpcdnstest"
)

// namesScript prints, as KUMO-DNS lines, what the guest's resolver and
// metadata service say: resolv.conf, the metadata service's names and
// key, and busybox nslookup of each name given.
func namesScript(lookups ...string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString(`echo "KUMO-DNS: resolv $(tr '\n' ' ' </etc/resolv.conf)"` + "\n")
	for _, k := range []string{"hostname", "local-hostname", "public-hostname", "public-keys/0/openssh-key"} {
		fmt.Fprintf(&b, "echo \"KUMO-DNS: imds %s $(kumo-imds meta-data/%s)\"\n", k, k)
	}
	for _, n := range lookups {
		fmt.Fprintf(&b, "echo \"KUMO-DNS: lookup %s $(nslookup %s 2>&1 | tr '\\n' ' ')\"\n", n, n)
	}
	b.WriteString("echo \"KUMO-DNS: done\"\n")
	return b.String()
}

// dnsLine is the rest of the console's "KUMO-DNS: <key> " line.
func dnsLine(console, key string) string {
	m := regexp.MustCompile(`(?m)^KUMO-DNS: ` + regexp.QuoteMeta(key) + ` (.*?)\r?$`).FindStringSubmatch(console)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// TestGuestNames boots two demo guests in the default VPC: the second
// resolves the first's private name (short, through the search domain DHCP
// gave, and in full), its reverse, its elastic IP's public name, and a
// name only the test's upstream resolver knows; its metadata names and
// key agree with DescribeInstances and the key pair. As issue 11 found:
// resolv.conf held "search ." and nothing resolved; public-hostname was
// the bare IP; openssh-key had no key name.
func TestGuestNames(t *testing.T) {
	upstream, asked := vpcdnstest.Upstream(t)
	c := newClusterWith(t, "--dns-upstream", upstream)
	a := c.account("team-dns")
	ctx := context.Background()
	ami := demoImageID(t, a)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	if _, err := a.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("dns-key"), PublicKeyMaterial: []byte(key + " me@laptop")}); err != nil {
		t.Fatal(err)
	}

	first := run(t, a, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	firstIP := aws.ToString(first.PrivateIpAddress)
	alloc, err := a.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: alloc.AllocationId, InstanceId: first.InstanceId}); err != nil {
		t.Fatal(err)
	}
	firstDesc := describe(t, a, *first.InstanceId)
	publicName := aws.ToString(firstDesc.PublicDnsName)
	privateName := aws.ToString(firstDesc.PrivateDnsName)
	short, _, _ := strings.Cut(privateName, ".")
	if publicName == "" || short == "" {
		t.Fatalf("first instance's names: private %q public %q", privateName, publicName)
	}

	script := namesScript(short, privateName, firstIP, publicName, "upstream.example", "nothing.kumo-1.compute.internal")
	second := run(t, a, &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("dns-key"),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(script)))})
	id := *second.InstanceId
	waitState(t, a, id, types.InstanceStateNameRunning, 2*time.Minute)
	out := waitConsole(t, a, id, 3*time.Minute, "KUMO-DNS: done", func(s string) bool { return strings.Contains(s, "KUMO-DNS: done") })
	desc := describe(t, a, id)

	if got := dnsLine(out, "resolv"); !strings.Contains(got, "search kumo-1.compute.internal") || !strings.Contains(got, "nameserver 172.31.0.2") {
		t.Errorf("resolv.conf from DHCP: %q, want search kumo-1.compute.internal and nameserver 172.31.0.2", got)
	}
	for what, want := range map[string]string{
		short:                             "Address: " + firstIP,
		privateName:                       "Address: " + firstIP,
		firstIP:                           privateName,
		publicName:                        "Address: " + firstIP, // inside the VPC: the private address, as AWS
		"upstream.example":                "Address: 192.0.2.99",
		"nothing.kumo-1.compute.internal": "NXDOMAIN",
	} {
		if got := dnsLine(out, "lookup "+what); !strings.Contains(got, want) {
			t.Errorf("nslookup %s in the guest: %q, want %q", what, got, want)
		}
	}
	if asked.Load() == 0 {
		t.Error("the upstream resolver was never asked")
	}
	names := map[string]string{
		"hostname": aws.ToString(desc.PrivateDnsName), "local-hostname": aws.ToString(desc.PrivateDnsName),
		"public-keys/0/openssh-key": key + " dns-key",
	}
	if pub := aws.ToString(desc.PublicDnsName); pub != "" {
		names["public-hostname"] = pub
	}
	for k, want := range names {
		if got := dnsLine(out, "imds "+k); got != want {
			t.Errorf("metadata %s = %q, DescribeInstances/key pair say %q", k, got, want)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}
