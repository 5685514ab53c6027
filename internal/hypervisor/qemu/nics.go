package qemu

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// MaxNICSlots bounds Spec.NICSlots.
const MaxNICSlots = 15

// nicChassis offsets the chassis numbers of NIC root ports past the
// volumes' (HotplugSlots ≤ 32).
const nicChassis = 64

// Prefixes of the QEMU ids of a slotted NIC.
const (
	netdevPrefix = "net-"
	devPrefix    = "nic-"
)

// peripheral is the QOM container of the devices added with an id.
const peripheral = "/machine/peripheral"

// NICPort is the id of the root port of NIC slot n (1 and up).
func NICPort(slot int) string { return "nicport" + strconv.Itoa(slot) }

// NICNames are the QEMU ids of the network backend and the virtio-net
// device of the interface id.
func NICNames(id string) (netdev, dev string) { return netdevPrefix + id, devPrefix + id }

// slotted returns the NICs that sit in root ports, in slot order.
func slotted(nics []NIC) []NIC {
	var out []NIC
	for _, n := range nics {
		if n.Slot > 0 {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b NIC) int { return cmp.Compare(a.Slot, b.Slot) })
	return out
}

// PlugNIC hot-plugs a network interface into its root port (n.Slot, 1 to
// Spec.NICSlots): a tap backend opened by name in QEMU's namespace, then a
// virtio-net-pci device with the interface's MAC. A backend left by an
// interrupted earlier attempt is replaced; on failure the backend is
// removed again.
func (i *Instance) PlugNIC(ctx context.Context, n NIC) error {
	if n.Slot == 0 || n.UserNet {
		return fmt.Errorf("qemu: plug nic into %s: want a tap in a slot", i.spec.ID)
	}
	if err := n.validate(i.spec.NICSlots); err != nil {
		return fmt.Errorf("qemu: plug nic %s into %s: %w", n.ID, i.spec.ID, err)
	}
	netdev, dev := NICNames(n.ID)
	if err := i.conn.NetdevAddTap(ctx, netdev, n.Tap); err != nil {
		// Perhaps left by an agent killed between its steps: replace it.
		if i.conn.NetdevDel(ctx, netdev) != nil {
			return fmt.Errorf("qemu: plug nic %s into %s: %w", n.ID, i.spec.ID, err)
		}
		if err := i.conn.NetdevAddTap(ctx, netdev, n.Tap); err != nil {
			return fmt.Errorf("qemu: plug nic %s into %s: %w", n.ID, i.spec.ID, err)
		}
	}
	props := map[string]any{"netdev": netdev, "mac": n.MAC, "bus": NICPort(n.Slot)}
	if err := i.conn.DeviceAdd(ctx, "virtio-net-pci", dev, props); err != nil {
		i.conn.NetdevDel(context.WithoutCancel(ctx), netdev)
		return fmt.Errorf("qemu: plug nic %s into %s: %w", n.ID, i.spec.ID, err)
	}
	return nil
}

// UnplugNIC asks the guest to release an interface's device, waits until
// it is gone (ctx bounds the wait: the guest must cooperate), then removes
// its backend. An interface that is not plugged is not an error, so a
// retry (after an agent restart, say) is safe.
func (i *Instance) UnplugNIC(ctx context.Context, id string) error {
	netdev, dev := NICNames(id)
	err := i.conn.DeviceDel(ctx, dev)
	var qe *qmp.Error
	if err != nil && !(errors.As(err, &qe) && qe.Class == "DeviceNotFound") {
		// device_del again while the first is pending fails; wait on.
		if present, lerr := i.hasPeripheral(ctx, dev); lerr != nil || !present {
			return fmt.Errorf("qemu: unplug nic %s from %s: %w", id, i.spec.ID, err)
		}
	}
	if err := i.waitPeripheralGone(ctx, dev); err != nil {
		return fmt.Errorf("qemu: unplug nic %s from %s: %w", id, i.spec.ID, err)
	}
	err = i.conn.NetdevDel(ctx, netdev)
	if err != nil && !(errors.As(err, &qe) && qe.Class == "DeviceNotFound") {
		return fmt.Errorf("qemu: unplug nic %s from %s: remove backend: %w", id, i.spec.ID, err)
	}
	return nil
}

// NICs returns the ids of the interfaces plugged into root ports (on the
// command line or hot-plugged), as QEMU knows them now: the truth after an
// agent restart.
func (i *Instance) NICs(ctx context.Context) ([]string, error) {
	props, err := i.conn.QOMList(ctx, peripheral)
	if err != nil {
		return nil, fmt.Errorf("qemu: list nics of %s: %w", i.spec.ID, err)
	}
	var ids []string
	for _, p := range props {
		if id, ok := strings.CutPrefix(p.Name, devPrefix); ok && strings.HasPrefix(p.Type, "child<") {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (i *Instance) hasPeripheral(ctx context.Context, dev string) (bool, error) {
	props, err := i.conn.QOMList(ctx, peripheral)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(props, func(p qmp.QOMProperty) bool { return p.Name == dev }), nil
}

// waitPeripheralGone polls qom-list until no device has the id (polling,
// not the DEVICE_DELETED event, so it also works after a reattach).
func (i *Instance) waitPeripheralGone(ctx context.Context, dev string) error {
	for {
		present, err := i.hasPeripheral(ctx, dev)
		if err != nil || !present {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("guest has not released %s: %w", dev, ctx.Err())
		case <-time.After(detachPoll):
		}
	}
}
