// Package qemu runs guests as QEMU processes controlled over QMP.
//
// A guest is described by a typed Spec, turned into a command line by Args,
// and started daemonized (-daemonize, -pidfile), so it is not a child of
// the agent: a restarted agent finds it again with Driver.Attach from the
// guest's run directory, which holds the monitor socket, the pidfile and
// the Spec it was started with.
package qemu

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
)

// Spec is everything QEMU needs to run one guest.
type Spec struct {
	ID        string // instance id, "i-0123456789abcdef0"; names the QEMU process
	VCPUs     int
	MemoryMiB int

	// Disks are attached in order as virtio-blk; Disks[0] is the root disk
	// (booted from when there is no Kernel).
	Disks []Disk

	// Direct kernel boot when Kernel is set; firmware boot otherwise.
	Kernel  string
	Initrd  string
	Cmdline string

	NICs []NIC

	// Netns is the network namespace QEMU runs in (a path such as
	// /var/run/netns/NAME), where its taps live; "" for the caller's.
	Netns string

	// SMBIOSUUID is the guest's SMBIOS type 1 uuid and serial: "ec2" then a
	// lower-case UUID form (see NewSMBIOSUUID), stable for the instance's life.
	SMBIOSUUID string

	// RunDir holds qmp.sock, qemu.pid and spec.json (and console.log unless
	// ConsoleLog says otherwise). Absolute, and short enough for a socket path.
	RunDir     string
	ConsoleLog string // the serial console's log file, appended to across boots

	// HotplugSlots is how many empty PCIe root ports to add for volumes
	// attached later (q35 cannot hot-plug into its root bus).
	HotplugSlots int
	// NICSlots is how many PCIe root ports to add for network interfaces
	// of device index 1 to NICSlots (see NIC.Slot), whether they are on
	// the command line or hot-plugged later.
	NICSlots int
}

// Disk is one virtio-blk disk.
type Disk struct {
	Path     string // absolute path of the image (a qcow2 overlay for a root disk)
	Format   string // "qcow2" or "raw"
	VolumeID string // "vol-…": the guest sees it without the dash as the disk serial; "" for none
	ReadOnly bool

	// Backing, on a qcow2 disk, is where QEMU reads the image's backing
	// bytes instead of the backing file its header names, which is not
	// complete yet (a base being filled): an NBD export, read-only and
	// raw. Instance.SwitchBacking moves the running guest to the file.
	Backing *NBDBacking `json:",omitempty"`
}

// NBDBacking is an NBD export on a unix socket.
type NBDBacking struct {
	Socket string // absolute path
	Export string
}

// NIC is one virtio-net-pci interface.
type NIC struct {
	Tap string // host tap device, created by the caller
	MAC string // lower case, "02:00:0a:00:00:05"

	// UserNet replaces the tap with QEMU's user-mode network with
	// restrict=on (the guest reaches nothing). For tests only.
	UserNet bool

	// Slot 0 puts the NIC on the root bus, where it can never be
	// unplugged (the primary interface: ids net<i> and net<i>-dev). Slot
	// n ≥ 1 (an interface's device index) puts it into its own root port
	// (NICPort(n)), so that it can be unplugged, with ids derived from ID
	// (see NICNames); the guest enumerates the root ports in slot order.
	Slot int
	ID   string // the network interface's id, "eni-…"; required with a Slot
}

// Run-directory file names.
const (
	qmpSocket = "qmp.sock"
	pidFile   = "qemu.pid"
	specFile  = "spec.json"
	logFile   = "console.log"
	errFile   = "qemu.stderr"
)

// maxSocketPath is the room in sockaddr_un for a path, less its NUL.
const maxSocketPath = 107

var (
	idRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,62}$`)
	uuidRE   = regexp.MustCompile(`^ec2[0-9a-f]{5}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	macRE    = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)
	tapRE    = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)
	volumeRE = regexp.MustCompile(`^vol-[0-9a-f]{8,17}$`)
	exportRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)
)

// NewSMBIOSUUID returns a fresh SMBIOS uuid of the form EC2 guests carry:
// "ec2" followed by random hex, in UUID form, lower case. r is the source
// of randomness (crypto/rand's Reader when nil).
func NewSMBIOSUUID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("smbios uuid: %w", err)
	}
	h := fmt.Sprintf("ec2%x", b[:])[:32]
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// DiskSerial is the serial the guest sees for a volume: its id without the dash.
func DiskSerial(volumeID string) string { return strings.Replace(volumeID, "-", "", 1) }

// consoleLog is where the serial console goes.
func (s Spec) consoleLog() string {
	if s.ConsoleLog != "" {
		return s.ConsoleLog
	}
	return filepath.Join(s.RunDir, logFile)
}

// Validate checks a Spec before anything is started.
func (s Spec) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !idRE.MatchString(s.ID) {
		bad("id %q: want letters, digits and dashes", s.ID)
	}
	if s.VCPUs < 1 || s.VCPUs > 255 {
		bad("vcpus %d: want 1..255", s.VCPUs)
	}
	if s.MemoryMiB < 16 {
		bad("memory %d MiB: want at least 16", s.MemoryMiB)
	}
	if len(s.Disks) == 0 && s.Kernel == "" {
		bad("nothing to boot: no disk and no kernel")
	}
	if s.Initrd != "" && s.Kernel == "" {
		bad("initrd without a kernel")
	}
	if !uuidRE.MatchString(s.SMBIOSUUID) {
		bad("smbios uuid %q: want ec2 then a lower-case UUID form", s.SMBIOSUUID)
	}
	if !filepath.IsAbs(s.RunDir) || len(filepath.Join(s.RunDir, qmpSocket)) > maxSocketPath {
		bad("run dir %q: want an absolute path short enough for a unix socket", s.RunDir)
	}
	if s.Netns != "" && !filepath.IsAbs(s.Netns) {
		bad("netns %q: want an absolute path", s.Netns)
	}
	if s.HotplugSlots < 0 || s.HotplugSlots > 32 {
		bad("hotplug slots %d: want 0..32", s.HotplugSlots)
	}
	if s.NICSlots < 0 || s.NICSlots > MaxNICSlots {
		bad("nic slots %d: want 0..%d", s.NICSlots, MaxNICSlots)
	}
	errs = append(errs, s.validateDevices()...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("qemu: invalid spec: %w", err)
	}
	return nil
}

func (s Spec) validateDevices() []error {
	var errs []error
	for i, d := range s.Disks {
		if !filepath.IsAbs(d.Path) {
			errs = append(errs, fmt.Errorf("disk %d: path %q is not absolute", i, d.Path))
		}
		if d.Format != "qcow2" && d.Format != "raw" {
			errs = append(errs, fmt.Errorf("disk %d: format %q: want qcow2 or raw", i, d.Format))
		}
		if d.VolumeID != "" && !volumeRE.MatchString(d.VolumeID) {
			errs = append(errs, fmt.Errorf("disk %d: volume id %q", i, d.VolumeID))
		}
		if err := d.Backing.validate(d.Format); err != nil {
			errs = append(errs, fmt.Errorf("disk %d: backing: %w", i, err))
		}
	}
	slots := map[int]bool{}
	for i, n := range s.NICs {
		if err := n.validate(s.NICSlots); err != nil {
			errs = append(errs, fmt.Errorf("nic %d: %w", i, err))
		}
		if n.Slot > 0 && slots[n.Slot] {
			errs = append(errs, fmt.Errorf("nic %d: slot %d taken twice", i, n.Slot))
		}
		slots[n.Slot] = true
	}
	return errs
}

// validate checks a NIC for a guest with nicSlots NIC root ports.
func (n NIC) validate(nicSlots int) error {
	var errs []error
	if !macRE.MatchString(n.MAC) {
		errs = append(errs, fmt.Errorf("mac %q: want lower-case aa:bb:cc:dd:ee:ff", n.MAC))
	}
	if n.UserNet == (n.Tap != "") || (n.Tap != "" && !tapRE.MatchString(n.Tap)) {
		errs = append(errs, errors.New("want either a tap name (15 chars at most) or UserNet"))
	}
	if n.Slot < 0 || n.Slot > nicSlots {
		errs = append(errs, fmt.Errorf("%w: nic slot %d (the guest has %d)", ErrNoSlot, n.Slot, nicSlots))
	}
	if n.Slot > 0 && !idRE.MatchString(n.ID) {
		errs = append(errs, fmt.Errorf("interface id %q: want letters, digits and dashes", n.ID))
	}
	return errors.Join(errs...)
}

// validate checks a disk's NBD backing (nil: none).
func (b *NBDBacking) validate(format string) error {
	switch {
	case b == nil:
		return nil
	case format != "qcow2":
		return fmt.Errorf("only a qcow2 disk has a backing, not %s", format)
	case !filepath.IsAbs(b.Socket) || len(b.Socket) > maxSocketPath:
		return fmt.Errorf("socket %q: want an absolute path short enough for a unix socket", b.Socket)
	case !exportRE.MatchString(b.Export):
		return fmt.Errorf("export %q: want 1 to 128 of letters, digits, '.', '_' and '-'", b.Export)
	}
	return nil
}
