package qemu

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Accel is how QEMU runs guest code.
type Accel string

// Accelerators.
const (
	AccelKVM Accel = "kvm"
	AccelTCG Accel = "tcg"
)

// Args is the QEMU command line (without the binary) for a valid Spec.
func Args(s Spec, accel Accel) []string {
	a := machineArgs(s, accel)
	a = append(a, bootArgs(s)...)
	for i, d := range s.Disks {
		a = append(a, diskArgs(i, d, s.Kernel == "")...)
	}
	for i, n := range s.NICs {
		if n.Slot == 0 {
			a = append(a, nicArgs(i, n)...)
		}
	}
	for i := range s.HotplugSlots {
		// No I/O port window: virtio on PCIe needs none, and 64 KiB of port
		// space runs out with a few dozen ports (the kernel logs each failure).
		a = append(a, "-device", fmt.Sprintf("pcie-root-port,id=hotplug%d,chassis=%d,io-reserve=0", i, i+1))
	}
	for slot := 1; slot <= s.NICSlots; slot++ {
		a = append(a, "-device", fmt.Sprintf("pcie-root-port,id=%s,chassis=%d", NICPort(slot), nicChassis+slot))
	}
	for _, n := range slotted(s.NICs) {
		a = append(a, slotNICArgs(n)...)
	}
	return a
}

func machineArgs(s Spec, accel Accel) []string {
	a := append([]string{"-name", "guest=" + esc(s.ID) + ",debug-threads=on"}, accelArgs(accel)...)
	return append(a,
		"-smp", strconv.Itoa(s.VCPUs), "-m", strconv.Itoa(s.MemoryMiB),
		"-nodefaults", "-no-user-config", "-display", "none",
		"-smbios", "type=1,serial="+s.SMBIOSUUID+",uuid="+s.SMBIOSUUID,
		"-device", "pvpanic", "-action", "panic=pause",
		"-chardev", "file,id=console,path="+esc(s.consoleLog())+",append=on",
		"-serial", "chardev:console",
		"-qmp", "unix:"+esc(filepath.Join(s.RunDir, qmpSocket))+",server=on,wait=off",
		"-pidfile", filepath.Join(s.RunDir, pidFile), "-daemonize",
	)
}

// accelArgs is the machine, accelerator and CPU of every guest, and of the
// KVM probe guest (so the probe fails where a guest would).
func accelArgs(accel Accel) []string {
	a := []string{"-machine", "q35", "-accel", string(accel)}
	if accel == AccelKVM {
		a = append(a, "-cpu", "host")
	}
	return a
}

func bootArgs(s Spec) []string {
	if s.Kernel == "" {
		return nil
	}
	a := []string{"-kernel", s.Kernel}
	if s.Initrd != "" {
		a = append(a, "-initrd", s.Initrd)
	}
	if s.Cmdline != "" {
		a = append(a, "-append", s.Cmdline)
	}
	return a
}

// diskArgs is a file node, a format node over it (and its NBD backing
// node), and a virtio-blk device.
func diskArgs(i int, d Disk, bootable bool) []string {
	node := fmt.Sprintf("disk%d", i)
	fmtNode := "driver=" + d.Format + ",node-name=" + node + ",file=" + node + "-file"
	fileNode := "driver=file,node-name=" + node + "-file,filename=" + esc(d.Path)
	var backing []string
	if d.Backing != nil {
		nbd, _ := backingNodes(i)
		fmtNode += ",backing=" + nbd
		backing = []string{"-blockdev", nbdNode(nbd, *d.Backing)}
	}
	if d.ReadOnly {
		fileNode += ",read-only=on"
		fmtNode += ",read-only=on"
	}
	dev := "virtio-blk-pci,id=" + node + "-dev,drive=" + node
	if d.VolumeID != "" {
		dev += ",serial=" + DiskSerial(d.VolumeID)
	}
	if bootable && i == 0 {
		dev += ",bootindex=0"
	}
	return append(backing, "-blockdev", fileNode, "-blockdev", fmtNode, "-device", dev)
}

// nbdNode is a read-only NBD client node that outlives a restart of its
// server: requests wait for the reconnection (up to nbdReconnectDelay)
// instead of failing, and QEMU's start waits as long for the server.
func nbdNode(name string, b NBDBacking) string {
	delay := strconv.Itoa(int(nbdReconnectDelay.Seconds()))
	return "driver=nbd,node-name=" + name + ",server.type=unix,server.path=" + esc(b.Socket) +
		",export=" + esc(b.Export) + ",read-only=on,reconnect-delay=" + delay + ",open-timeout=" + delay
}

func nicArgs(i int, n NIC) []string {
	id := fmt.Sprintf("net%d", i)
	netdev := "tap,id=" + id + ",ifname=" + n.Tap + ",script=no,downscript=no"
	if n.UserNet {
		netdev = "user,id=" + id + ",restrict=on"
	}
	return []string{"-netdev", netdev, "-device", "virtio-net-pci,id=" + id + "-dev,netdev=" + id + ",mac=" + n.MAC}
}

// slotNICArgs is a NIC in its root port, with the ids hot-plug uses.
func slotNICArgs(n NIC) []string {
	netdev, dev := NICNames(n.ID)
	be := "tap,id=" + netdev + ",ifname=" + n.Tap + ",script=no,downscript=no"
	if n.UserNet {
		be = "user,id=" + netdev + ",restrict=on"
	}
	return []string{"-netdev", be, "-device", "virtio-net-pci,id=" + dev + ",netdev=" + netdev + ",mac=" + n.MAC + ",bus=" + NICPort(n.Slot)}
}

// esc quotes a value for QEMU's option syntax, where a comma is doubled.
func esc(v string) string { return strings.ReplaceAll(v, ",", ",,") }
