package demotest

import (
	"strings"
	"testing"
)

const sampleConsole = "[    0.000000] Linux version 6.1.0\r\n" +
	"KUMO-DEMO: booted 6.1.0-56-cloud-amd64\r\n" +
	"KUMO-DEMO: disk vda size=33554432 serial=-\n" +
	"KUMO-DEMO: root-disk vda boot-count=1\n" +
	"udhcpc: lease of 10.0.2.15 obtained\n" +
	"KUMO-DEMO: network eth0 10.0.2.15 prefix=24 router=10.0.2.2 mac=52:54:00:12:34:56\n" +
	"KUMO-DEMO: imds v2\n" +
	"KUMO-DEMO: instance-id i-0123456789abcdef0\n" +
	"KUMO-DEMO: public-key ssh-ed25519 SHA256:abc\n" +
	"KUMO-DEMO: user-data start\n" +
	"hello-from-user-data 5.1 3.2\n" +
	"second line\n" +
	"KUMO-DEMO: user-data exit 0\n" +
	"KUMO-DEMO: ready\n"

func TestParse(t *testing.T) {
	ms := Parse([]byte(sampleConsole))
	if len(ms) != 10 {
		t.Fatalf("%d markers, want 10: %+v", len(ms), ms)
	}
	n := ms[3]
	if n.Event != Network || n.Arg(0) != "eth0" || n.Arg(1) != "10.0.2.15" || n.Fields["prefix"] != "24" || n.Fields["mac"] != "52:54:00:12:34:56" || n.Line != 6 {
		t.Fatalf("network marker parsed as %+v", n)
	}
	if m, ok := Find(ms, InstanceID); !ok || m.Arg(0) != "i-0123456789abcdef0" {
		t.Fatalf("instance-id: %+v %v", m, ok)
	}
	if ms[0].Arg(0) != "6.1.0-56-cloud-amd64" {
		t.Fatalf("booted marker with \\r parsed as %+v", ms[0])
	}
}

func TestVerify(t *testing.T) {
	zero := 0
	ok := Expect{InstanceID: "i-0123456789abcdef0", IMDS: "v2", PublicKey: "ssh-ed25519 SHA256:abc",
		UserDataOutput: []string{"hello-from-user-data", "second line"}, UserDataExit: &zero, RootDisk: "1"}
	if err := Verify([]byte(sampleConsole), ok); err != nil {
		t.Fatal(err)
	}
	one := 1
	for name, c := range map[string]struct {
		console string
		e       Expect
		want    string
	}{
		"v1":        {sampleConsole, Expect{IMDS: "v1"}, `imds "v2", want "v1"`},
		"id":        {sampleConsole, Expect{InstanceID: "i-1"}, "instance-id"},
		"exit":      {sampleConsole, Expect{UserDataExit: &one}, "user-data exit"},
		"output":    {sampleConsole, Expect{UserDataOutput: []string{"second line", "hello"}}, "lacks"},
		"none":      {sampleConsole, Expect{UserDataNone: true}, "want none"},
		"root":      {sampleConsole, Expect{RootDisk: "2"}, "boot-count=2"},
		"no ready":  {strings.Replace(sampleConsole, "KUMO-DEMO: ready", "", 1), Expect{}, `no "ready"`},
		"error":     {strings.Replace(sampleConsole, "KUMO-DEMO: imds v2", "KUMO-DEMO: error imds unreachable", 1), Expect{}, "error imds"},
		"out order": {strings.Replace(sampleConsole, "KUMO-DEMO: booted", "KUMO-DEMO: bootedx", 1), Expect{}, `no "booted"`},
	} {
		err := Verify([]byte(c.console), c.e)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Verify = %v, want an error with %q", name, err, c.want)
		}
	}
	// Only the last boot counts.
	twice := strings.Replace(sampleConsole, "KUMO-DEMO: ready", "KUMO-DEMO: error imds x", 1) + sampleConsole
	if err := Verify([]byte(twice), ok); err != nil {
		t.Fatalf("second boot: %v", err)
	}
}
