package guestnet

import (
	"fmt"
	"time"
)

// OwnersDir holds one record per node (kumo node, or kumo dev's) that has
// put guest networks on this host: "<prefix>.lock", a JSON Owner that the
// node's process holds locked (flock) while it runs. /run is emptied at
// boot, as the namespaces are.
const OwnersDir = "/run/kumo/owners"

// Owner says who made the namespaces, host veths and routes, proxy entries
// and host forwarding table named by Prefix.
type Owner struct {
	Prefix    string    `json:"prefix"`
	PID       int       `json:"pid"`
	DataDir   string    `json:"dataDir"`
	HostNetns string    `json:"hostNetns,omitempty"`
	Uplink    string    `json:"uplink,omitempty"`
	Started   time.Time `json:"started"`
	// Alive is not stored: whether a running process holds the record.
	Alive bool `json:"-"`
}

// InUseError is ClaimPrefix's answer when a running Kumo owns the prefix.
type InUseError struct{ Owner Owner }

func (e *InUseError) Error() string {
	return fmt.Sprintf("network namespace prefix %q is in use by a running kumo (pid %d, data dir %s): "+
		"stop it first, or give this one another --netns-prefix", e.Owner.Prefix, e.Owner.PID, e.Owner.DataDir)
}

// Removed is what RemoveHostState took off the host.
type Removed struct {
	Veths, Routes, ProxyEntries, Namespaces []string
	Table                                   string // the host forwarding table, when there was one
}

func (r Removed) String() string {
	return fmt.Sprintf("veths %v, routes %v, proxy entries %v, namespaces %v, table %q",
		r.Veths, r.Routes, r.ProxyEntries, r.Namespaces, r.Table)
}

// Empty reports whether nothing was removed.
func (r Removed) Empty() bool {
	return len(r.Veths)+len(r.Routes)+len(r.ProxyEntries)+len(r.Namespaces) == 0 && r.Table == ""
}
