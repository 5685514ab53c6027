package qmp

import "context"

// TapNetdev is netdev_add's arguments for a tap QEMU opens by name
// (script=no: the caller made it and put it on its bridge).
type TapNetdev struct {
	Type       string `json:"type"` // "tap"
	ID         string `json:"id"`
	IfName     string `json:"ifname"`
	Script     string `json:"script"`     // "no"
	DownScript string `json:"downscript"` // "no"
	VHost      bool   `json:"vhost,omitempty"`
}

// NetdevAddTap adds a tap network backend called id, opening the tap
// ifname in QEMU's network namespace.
func (c *Conn) NetdevAddTap(ctx context.Context, id, ifname string) error {
	return c.Execute(ctx, "netdev_add", TapNetdev{Type: "tap", ID: id, IfName: ifname, Script: "no", DownScript: "no"}, nil)
}

// NetdevDel removes a network backend (its device must be gone first).
func (c *Conn) NetdevDel(ctx context.Context, id string) error {
	return c.Execute(ctx, "netdev_del", map[string]string{"id": id}, nil)
}

// QOMProperty is one entry of qom-list.
type QOMProperty struct {
	Name string `json:"name"`
	Type string `json:"type"` // "child<virtio-net-pci>", "link<...>", "string", ...
}

// QOMList lists the properties of the QOM object at path; under
// /machine/peripheral the children are the devices added with an id.
func (c *Conn) QOMList(ctx context.Context, path string) ([]QOMProperty, error) {
	var props []QOMProperty
	err := c.Execute(ctx, "qom-list", map[string]string{"path": path}, &props)
	return props, err
}
