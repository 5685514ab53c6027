package qmp

import (
	"context"
	"encoding/json"
	"errors"
)

// Run states QEMU reports in query-status (the ones a driver acts on).
const (
	StatusRunning       = "running"
	StatusPaused        = "paused"
	StatusPrelaunch     = "prelaunch"
	StatusShutdown      = "shutdown" // guest powered off, QEMU kept alive (-no-shutdown)
	StatusGuestPanicked = "guest-panicked"
	StatusInternalError = "internal-error"
	StatusIOError       = "io-error"
)

// Status is query-status's answer.
type Status struct {
	Status  string `json:"status"`
	Running bool   `json:"running"`
}

// QueryStatus returns the VM's run state.
func (c *Conn) QueryStatus(ctx context.Context) (Status, error) {
	var s Status
	err := c.Execute(ctx, "query-status", nil, &s)
	return s, err
}

// SystemPowerdown presses the ACPI power button; the guest decides.
func (c *Conn) SystemPowerdown(ctx context.Context) error {
	return c.Execute(ctx, "system_powerdown", nil, nil)
}

// SystemReset resets the VM, like a hardware reset button.
func (c *Conn) SystemReset(ctx context.Context) error {
	return c.Execute(ctx, "system_reset", nil, nil)
}

// SendKey presses keys together on the guest's keyboard and releases them,
// by QEMU key code ("ctrl", "alt", "delete", ...).
func (c *Conn) SendKey(ctx context.Context, qcodes ...string) error {
	type key struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}
	keys := make([]key, len(qcodes))
	for i, q := range qcodes {
		keys[i] = key{Type: "qcode", Data: q}
	}
	return c.Execute(ctx, "send-key", map[string]any{"keys": keys}, nil)
}

// CtrlAltDelete presses ctrl-alt-delete: the guest's OS decides (Linux
// init reboots cleanly).
func (c *Conn) CtrlAltDelete(ctx context.Context) error {
	return c.SendKey(ctx, "ctrl", "alt", "delete")
}

// Stop pauses the vCPUs.
func (c *Conn) Stop(ctx context.Context) error { return c.Execute(ctx, "stop", nil, nil) }

// Cont resumes paused vCPUs.
func (c *Conn) Cont(ctx context.Context) error { return c.Execute(ctx, "cont", nil, nil) }

// Quit makes QEMU exit at once (disk caches are flushed; the guest is not
// asked). QEMU may close the socket before its reply arrives: that counts
// as success.
func (c *Conn) Quit(ctx context.Context) error {
	err := c.Execute(ctx, "quit", nil, nil)
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// BlockdevOptions is the subset of blockdev-add's arguments Kumo uses:
// a format node (qcow2, raw) over a protocol node (file, nbd, null-co).
type BlockdevOptions struct {
	Driver   string         `json:"driver"`
	NodeName string         `json:"node-name,omitempty"`
	ReadOnly bool           `json:"read-only,omitempty"`
	Discard  string         `json:"discard,omitempty"`  // "unmap" or "ignore"
	File     *BlockdevRef   `json:"file,omitempty"`     // the protocol node under a format node
	Filename string         `json:"filename,omitempty"` // driver "file"
	Size     int64          `json:"size,omitempty"`     // driver "null-co" (tests)
	Server   *SocketAddress `json:"server,omitempty"`   // driver "nbd"
	Export   string         `json:"export,omitempty"`   // driver "nbd"
}

// BlockdevRef names a child node: an existing node by name, or a new one.
type BlockdevRef struct {
	Node string           // an existing node-name
	New  *BlockdevOptions // or the options of a node to create with the parent
}

// MarshalJSON writes the QMP form: a string or an object.
func (r BlockdevRef) MarshalJSON() ([]byte, error) {
	if r.New != nil {
		return json.Marshal(r.New)
	}
	return json.Marshal(r.Node)
}

// SocketAddress is QMP's SocketAddress for NBD servers.
type SocketAddress struct {
	Type string `json:"type"`           // "unix" or "inet"
	Path string `json:"path,omitempty"` // unix
	Host string `json:"host,omitempty"` // inet
	Port string `json:"port,omitempty"` // inet
}

// BlockdevAdd adds a block node graph.
func (c *Conn) BlockdevAdd(ctx context.Context, opts BlockdevOptions) error {
	return c.Execute(ctx, "blockdev-add", opts, nil)
}

// BlockdevDel removes a block node no device uses any more.
func (c *Conn) BlockdevDel(ctx context.Context, nodeName string) error {
	return c.Execute(ctx, "blockdev-del", map[string]string{"node-name": nodeName}, nil)
}

// BlockNodeNames lists the names of every block node.
func (c *Conn) BlockNodeNames(ctx context.Context) ([]string, error) {
	var nodes []struct {
		NodeName string `json:"node-name"`
	}
	err := c.Execute(ctx, "query-named-block-nodes", map[string]bool{"flat": true}, &nodes)
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.NodeName)
	}
	return names, err
}

// DeviceAdd plugs a device: driver ("virtio-blk-pci"), id, and its
// properties ("drive", "bus", "serial", ...).
func (c *Conn) DeviceAdd(ctx context.Context, driver, id string, props map[string]any) error {
	args := make(map[string]any, len(props)+2)
	for k, v := range props {
		args[k] = v
	}
	args["driver"], args["id"] = driver, id
	return c.Execute(ctx, "device_add", args, nil)
}

// DeviceDel asks for a device's removal. Removal of PCI devices needs the
// guest's help: it is done when the DEVICE_DELETED event names the id.
func (c *Conn) DeviceDel(ctx context.Context, id string) error {
	return c.Execute(ctx, "device_del", map[string]string{"id": id}, nil)
}

// BlockInfo is one entry of query-block.
type BlockInfo struct {
	Device   string         `json:"device"` // legacy drive name, "" for -blockdev nodes
	QDev     string         `json:"qdev"`   // the device's id or QOM path
	Inserted *BlockInserted `json:"inserted,omitempty"`
}

// BlockInserted describes the medium of a BlockInfo.
type BlockInserted struct {
	NodeName string `json:"node-name"`
	File     string `json:"file"`
	Driver   string `json:"drv"`
	ReadOnly bool   `json:"ro"`
}

// QueryBlock lists the block devices and what they hold.
func (c *Conn) QueryBlock(ctx context.Context) ([]BlockInfo, error) {
	var bs []BlockInfo
	err := c.Execute(ctx, "query-block", nil, &bs)
	return bs, err
}
