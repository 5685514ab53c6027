package node

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// nicSlots is how many interfaces beyond the primary one a guest can
// have: those of device index 1 to nicSlots, each in its own PCIe root
// port, so that the guest enumerates them in device-index order (eth1,
// eth2, …) whether they were there at boot or hot-plugged.
const nicSlots = 8

// unplugTimeout bounds how long the guest may take to release an
// interface; after a failed round the worker waits nicRetryPolls poll
// intervals before it tries again.
const (
	unplugTimeout = 20 * time.Second
	nicRetryPolls = 5
)

// nicGuest is a Guest whose further network interfaces can be plugged and
// unplugged while it runs (a QEMU guest is one).
type nicGuest interface {
	PlugNIC(ctx context.Context, n qemu.NIC) error
	UnplugNIC(ctx context.Context, interfaceID string) error
	// NICs returns the ids of the interfaces plugged into slots.
	NICs(ctx context.Context) ([]string, error)
}

// interfaces returns all of an instance's interfaces the node serves: the
// primary, then the valid further ones (extraNICs).
func interfaces(s nodeapi.InstanceSpec) []nodeapi.NetworkInterface {
	return append([]nodeapi.NetworkInterface{s.Network}, extraNICs(s)...)
}

// extraNICs returns the spec's further interfaces a guest can have, in
// device-index order: with an id and a MAC, in the primary interface's
// VPC, a device index from 1 to nicSlots, the first of each index and of
// each id.
func extraNICs(s nodeapi.InstanceSpec) []nodeapi.NetworkInterface {
	var out []nodeapi.NetworkInterface
	for _, n := range s.Extra {
		if badNIC(s, n) == "" && !slices.ContainsFunc(out, func(o nodeapi.NetworkInterface) bool {
			return o.DeviceIndex == n.DeviceIndex || o.InterfaceID == n.InterfaceID
		}) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b nodeapi.NetworkInterface) int { return cmp.Compare(a.DeviceIndex, b.DeviceIndex) })
	return out
}

// badNIC says why a further interface cannot be given to the guest ("" if
// it can).
func badNIC(s nodeapi.InstanceSpec, n nodeapi.NetworkInterface) string {
	switch {
	case n.InterfaceID == "" || n.MAC == "":
		return "no interface id or MAC"
	case n.InterfaceID == s.Network.InterfaceID:
		return "the primary interface again"
	case n.DeviceIndex < 1 || n.DeviceIndex > nicSlots:
		return "device index " + strconv.Itoa(n.DeviceIndex) + " out of 1.." + strconv.Itoa(nicSlots)
	case n.VPCID != s.Network.VPCID:
		return "not in the primary interface's VPC"
	}
	return ""
}

// nicKey identifies a set of further interfaces as plugged.
func nicKey(ns []nodeapi.NetworkInterface) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "%d=%s/%s/%s;", n.DeviceIndex, n.InterfaceID, strings.ToLower(n.MAC), n.SubnetID)
	}
	return b.String()
}

// extraNIC makes a further interface's subnet (with DHCP and the metadata
// service) and tap, and returns the NIC QEMU gets.
func (a *agent) extraNIC(ctx context.Context, n nodeapi.NetworkInterface) (qemu.NIC, error) {
	sub, err := a.ensureSubnet(ctx, n)
	if err != nil {
		return qemu.NIC{}, err
	}
	tap, err := a.cfg.Network.EnsureTap(ctx, sub, n.InterfaceID)
	if err != nil {
		return qemu.NIC{}, fmt.Errorf("tap of %s: %w", n.InterfaceID, err)
	}
	return qemu.NIC{Tap: tap, MAC: strings.ToLower(n.MAC), Slot: n.DeviceIndex, ID: n.InterfaceID}, nil
}

// syncNICs converges the running guest's further interfaces on the
// spec's: it unplugs (then deletes the taps of) those that went, and
// plugs those that came. What is plugged is asked of QEMU each time the
// guest or the wanted set changes, so a restarted agent never plugs an
// interface twice.
func (w *worker) syncNICs(ctx context.Context, spec *nodeapi.InstanceSpec) {
	g, ok := w.guest.(nicGuest)
	if !ok || w.a.cfg.Network == nil || spec.Network.VPCID == "" {
		return
	}
	want := extraNICs(*spec)
	key := nicKey(want)
	replug := w.takeReplug()
	if len(replug) > 0 {
		w.replugNICs(ctx, g, spec, want, replug)
	}
	if w.nicsFor == w.guest && w.nicsKey == key {
		w.a.serveDHCP(want)
		return
	}
	if w.a.now().Before(w.nicsAfter) && w.nicsFor == w.guest && w.nicsTried == key {
		return
	}
	w.logSkippedNICs(spec)
	plugged, err := g.NICs(ctx)
	if err != nil {
		w.a.log.Warn("list network interfaces", "instance", w.id, "err", err)
		return
	}
	done := true
	for _, id := range plugged {
		if !slices.ContainsFunc(want, func(n nodeapi.NetworkInterface) bool { return n.InterfaceID == id }) {
			done = w.unplugNIC(ctx, g, spec.Network.VPCID, id) && done
		}
	}
	for _, n := range want {
		done = w.plugNIC(ctx, g, n, slices.Contains(plugged, n.InterfaceID)) && done
	}
	w.nicsFor, w.nicsTried = w.guest, key
	if done {
		w.nicsKey = key
	} else {
		w.nicsKey, w.nicsAfter = "", w.a.now().Add(nicRetryPolls*w.a.poll())
	}
}

// requestReplug asks the worker to plug an interface again: its tap was
// re-made, and the guest's device still holds the old one.
func (w *worker) requestReplug(interfaceID string) {
	w.mu.Lock()
	if w.replug == nil {
		w.replug = map[string]bool{}
	}
	w.replug[interfaceID] = true
	w.mu.Unlock()
	w.poke()
}

func (w *worker) takeReplug() map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.replug
	w.replug = nil
	return r
}

// replugNICs unplugs and plugs again the wanted interfaces of ids that
// are plugged, so that their devices open their re-made taps (the guest
// sees the NIC go and come back).
func (w *worker) replugNICs(ctx context.Context, g nicGuest, spec *nodeapi.InstanceSpec, want []nodeapi.NetworkInterface, ids map[string]bool) {
	plugged, err := g.NICs(ctx)
	if err != nil {
		w.a.log.Warn("list network interfaces", "instance", w.id, "err", err)
		return
	}
	for _, n := range want {
		if !ids[n.InterfaceID] || !slices.Contains(plugged, n.InterfaceID) {
			continue
		}
		if w.unplugNIC(ctx, g, spec.Network.VPCID, n.InterfaceID) && w.plugNIC(ctx, g, n, false) {
			w.a.log.Info("plugged a network interface again after its tap was re-made", "instance", w.id, "interface", n.InterfaceID)
		}
	}
}

// serveDHCP restarts, if they stopped (a repair restarts a VPC's
// services), the DHCP servers of the further interfaces' subnets.
func (a *agent) serveDHCP(ns []nodeapi.NetworkInterface) {
	for _, n := range ns {
		a.vnet.mu.Lock()
		sub, ok := a.vnet.subnets[n.SubnetID]
		a.vnet.mu.Unlock()
		if !ok || sub.VPCID != n.VPCID {
			continue
		}
		if err := a.net.ensureDHCP(sub); err != nil {
			a.log.Warn("dhcp of a network interface's subnet", "interface", n.InterfaceID, "err", err)
		}
	}
}

func (w *worker) unplugNIC(ctx context.Context, g nicGuest, vpcID, id string) bool {
	uctx, cancel := context.WithTimeout(ctx, unplugTimeout)
	defer cancel()
	if err := g.UnplugNIC(uctx, id); err != nil {
		w.a.log.Warn("unplug network interface", "instance", w.id, "interface", id, "err", err)
		return false
	}
	if err := w.a.cfg.Network.DeleteTap(ctx, vpcID, id); err != nil {
		w.a.log.Warn("delete tap", "instance", w.id, "interface", id, "err", err)
		return false
	}
	w.a.log.Info("unplugged network interface", "instance", w.id, "interface", id)
	return true
}

// plugNIC makes the interface's network (again: it repairs a tap and
// restarts the services of a reattached guest) and plugs it unless it is.
func (w *worker) plugNIC(ctx context.Context, g nicGuest, n nodeapi.NetworkInterface, plugged bool) bool {
	w.a.vpcMu.RLock()
	nic, err := w.a.extraNIC(ctx, n)
	w.a.vpcMu.RUnlock()
	if err == nil && !plugged {
		err = g.PlugNIC(ctx, nic)
	}
	if err != nil {
		w.a.log.Warn("plug network interface", "instance", w.id, "interface", n.InterfaceID, "err", err)
		return false
	}
	if !plugged {
		w.a.log.Info("plugged network interface", "instance", w.id, "interface", n.InterfaceID,
			"device_index", n.DeviceIndex, "tap", nic.Tap)
	}
	return true
}

func (w *worker) logSkippedNICs(spec *nodeapi.InstanceSpec) {
	for _, n := range spec.Extra {
		if why := badNIC(*spec, n); why != "" {
			w.a.log.Warn("network interface left out", "instance", w.id, "interface", n.InterfaceID, "why", why)
		}
	}
}

// deleteExtraTaps removes the taps of a terminated instance's further
// interfaces.
func (w *worker) deleteExtraTaps(ctx context.Context, spec *nodeapi.InstanceSpec) error {
	for _, n := range extraNICs(*spec) {
		if err := w.a.cfg.Network.DeleteTap(ctx, spec.Network.VPCID, n.InterfaceID); err != nil {
			return fmt.Errorf("tap of %s: %w", n.InterfaceID, err)
		}
	}
	return nil
}

// tapID is the id that names an interface's tap (Network.EnsureTap and
// DeleteTap): the instance's for the primary interface (its tap predates
// further interfaces), the interface's for the others.
func tapID(s nodeapi.InstanceSpec, n nodeapi.NetworkInterface) string {
	if n.DeviceIndex == 0 {
		return s.ID
	}
	return n.InterfaceID
}

// tapOf is the tap name of an instance's interface on this node.
func tapOf(s nodeapi.InstanceSpec, n nodeapi.NetworkInterface) string {
	return guestnet.TapName(tapID(s, n))
}

var _ nicGuest = (*qemuGuest)(nil)
