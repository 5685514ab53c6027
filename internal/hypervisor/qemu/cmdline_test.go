package qemu

import (
	"bytes"
	"strings"
	"testing"
)

func testSpec() Spec {
	return Spec{
		ID: "i-0123456789abcdef0", VCPUs: 2, MemoryMiB: 256,
		Disks: []Disk{
			{Path: "/var/lib/kumo/i-0123456789abcdef0/root.qcow2", Format: "qcow2"},
			{Path: "/var/lib/kumo/volumes/vol,1.raw", Format: "raw", VolumeID: "vol-0123456789abcdef0"},
		},
		Kernel: "/cache/eki/vmlinuz", Initrd: "/cache/eri/initrd.img", Cmdline: "console=ttyS0 quiet",
		NICs:         []NIC{{Tap: "tap-0123456789a", MAC: "02:00:0a:00:00:05"}},
		SMBIOSUUID:   "ec2a8b3e-6d0c-4f1e-9a2b-3c4d5e6f7a8b",
		RunDir:       "/run/kumo/i-0123456789abcdef0",
		HotplugSlots: 2,
	}
}

const wantArgs = `-name guest=i-0123456789abcdef0,debug-threads=on
-machine q35
-accel tcg
-smp 2
-m 256
-nodefaults
-no-user-config
-display none
-smbios type=1,serial=ec2a8b3e-6d0c-4f1e-9a2b-3c4d5e6f7a8b,uuid=ec2a8b3e-6d0c-4f1e-9a2b-3c4d5e6f7a8b
-device pvpanic
-action panic=pause
-chardev file,id=console,path=/run/kumo/i-0123456789abcdef0/console.log,append=on
-serial chardev:console
-qmp unix:/run/kumo/i-0123456789abcdef0/qmp.sock,server=on,wait=off
-pidfile /run/kumo/i-0123456789abcdef0/qemu.pid
-daemonize
-kernel /cache/eki/vmlinuz
-initrd /cache/eri/initrd.img
-append console=ttyS0 quiet
-blockdev driver=file,node-name=disk0-file,filename=/var/lib/kumo/i-0123456789abcdef0/root.qcow2
-blockdev driver=qcow2,node-name=disk0,file=disk0-file
-device virtio-blk-pci,id=disk0-dev,drive=disk0
-blockdev driver=file,node-name=disk1-file,filename=/var/lib/kumo/volumes/vol,,1.raw
-blockdev driver=raw,node-name=disk1,file=disk1-file
-device virtio-blk-pci,id=disk1-dev,drive=disk1,serial=vol0123456789abcdef0
-netdev tap,id=net0,ifname=tap-0123456789a,script=no,downscript=no
-device virtio-net-pci,id=net0-dev,netdev=net0,mac=02:00:0a:00:00:05
-device pcie-root-port,id=hotplug0,chassis=1,io-reserve=0
-device pcie-root-port,id=hotplug1,chassis=2,io-reserve=0
`

// render puts each option on a line with its value, for readable diffs.
func render(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 && strings.HasPrefix(a, "-") {
			b.WriteString("\n")
		} else if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(a)
	}
	return b.String() + "\n"
}

func TestArgsDirectKernelBoot(t *testing.T) {
	s := testSpec()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := render(Args(s, AccelTCG)); got != wantArgs {
		t.Errorf("command line:\n%s\nwant:\n%s", got, wantArgs)
	}
}

func TestArgsFirmwareBootKVMUserNet(t *testing.T) {
	s := testSpec()
	s.Kernel, s.Initrd, s.Cmdline = "", "", ""
	s.Disks = s.Disks[:1]
	s.NICs = []NIC{{UserNet: true, MAC: "02:00:00:00:00:01"}}
	s.ConsoleLog = "/var/log/kumo/i-1.log"
	got := render(Args(s, AccelKVM))
	for _, want := range []string{
		"-accel kvm\n-cpu host\n",
		"-device virtio-blk-pci,id=disk0-dev,drive=disk0,bootindex=0\n",
		"-netdev user,id=net0,restrict=on\n-device virtio-net-pci,id=net0-dev,netdev=net0,mac=02:00:00:00:00:01\n",
		"-chardev file,id=console,path=/var/log/kumo/i-1.log,append=on\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("command line lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "-kernel") {
		t.Errorf("firmware boot with -kernel:\n%s", got)
	}
}

// A root disk on an NBD backing: the NBD node first, with the reconnection
// settings, named as the qcow2 node's backing.
func TestArgsNBDBacking(t *testing.T) {
	s := testSpec()
	s.Disks[0].Backing = &NBDBacking{Socket: "/var/lib/kumo/images/nbd.sock", Export: "snap-0123"}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := "-blockdev driver=nbd,node-name=disk0-nbd,server.type=unix,server.path=/var/lib/kumo/images/nbd.sock," +
		"export=snap-0123,read-only=on,reconnect-delay=300,open-timeout=300\n" +
		"-blockdev driver=file,node-name=disk0-file,filename=/var/lib/kumo/i-0123456789abcdef0/root.qcow2\n" +
		"-blockdev driver=qcow2,node-name=disk0,file=disk0-file,backing=disk0-nbd\n"
	if got := render(Args(s, AccelTCG)); !strings.Contains(got, want) {
		t.Errorf("command line:\n%s\nwant in it:\n%s", got, want)
	}
}

func TestAccelProbe(t *testing.T) {
	for _, kvm := range []bool{true, false} {
		d := Driver{KVMUsable: func() bool { return kvm }}
		want := map[bool]Accel{true: AccelKVM, false: AccelTCG}[kvm]
		if got := d.Accel(); got != want {
			t.Errorf("probe %v: accel %s, want %s", kvm, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]func(*Spec){
		"id":         func(s *Spec) { s.ID = "i 1" },
		"vcpus":      func(s *Spec) { s.VCPUs = 0 },
		"memory":     func(s *Spec) { s.MemoryMiB = 1 },
		"uuid upper": func(s *Spec) { s.SMBIOSUUID = strings.ToUpper(s.SMBIOSUUID) },
		"uuid plain": func(s *Spec) { s.SMBIOSUUID = "a8b3e6d0-c4f1-e9a2-b3c4-d5e6f7a8b123" },
		"run dir":    func(s *Spec) { s.RunDir = "run" },
		"long dir":   func(s *Spec) { s.RunDir = "/" + strings.Repeat("x", 120) },
		"format":     func(s *Spec) { s.Disks[0].Format = "vmdk" },
		"relative":   func(s *Spec) { s.Disks[0].Path = "root.qcow2" },
		"volume":     func(s *Spec) { s.Disks[1].VolumeID = "vol_1" },
		"mac":        func(s *Spec) { s.NICs[0].MAC = "02:00:0A:00:00:05" },
		"tap+user":   func(s *Spec) { s.NICs[0].UserNet = true },
		"long tap":   func(s *Spec) { s.NICs[0].Tap = "tap-0123456789abcdef" },
		"no boot":    func(s *Spec) { s.Disks, s.Kernel, s.Initrd = nil, "", "" },
		"raw backing": func(s *Spec) {
			s.Disks[1].Backing = &NBDBacking{Socket: "/run/kumo/nbd.sock", Export: "snap-1"}
		},
		"backing socket": func(s *Spec) { s.Disks[0].Backing = &NBDBacking{Socket: "nbd.sock", Export: "snap-1"} },
		"backing export": func(s *Spec) { s.Disks[0].Backing = &NBDBacking{Socket: "/n.sock", Export: "a,b"} },
	}
	for name, mutate := range bad {
		s := testSpec()
		mutate(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, s)
		}
	}
}

func TestNewSMBIOSUUID(t *testing.T) {
	u, err := NewSMBIOSUUID(bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	if u != "ec2ababa-baba-baba-baba-babababababa" {
		t.Errorf("uuid %s", u)
	}
	for range 20 {
		u, err := NewSMBIOSUUID(nil)
		if err != nil || !uuidRE.MatchString(u) {
			t.Fatalf("uuid %q, %v", u, err)
		}
	}
	if got := DiskSerial("vol-0123456789abcdef0"); got != "vol0123456789abcdef0" {
		t.Errorf("DiskSerial = %s", got)
	}
}
