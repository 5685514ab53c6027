package cli

import (
	"fmt"
	"net"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

const volumeBackendUsage = "where volumes' data lives: local (a qcow2 file on the node that first runs the volume, moved to other nodes over NBD) or rbd (Ceph RBD: not supported yet, see docs/ceph.md)"

// checkVolumeBackend accepts the backends a node can attach to guests.
// RBD volumes exist on the server side and in internal/volume/rbd, but no
// node attaches them to a guest yet: refusing at start-up is clearer than
// volumes that stay "creating" forever.
func checkVolumeBackend(b string) error {
	switch b {
	case nodeapi.VolumeBackendLocal, "":
		return nil
	case nodeapi.VolumeBackendRBD:
		return fmt.Errorf("--volume-backend rbd: not supported yet: nodes cannot attach Ceph RBD volumes to guests (see docs/ceph.md)")
	}
	return fmt.Errorf("--volume-backend %q: want local or rbd", b)
}

// checkHostPort checks a host:port flag whose host is an IP address.
func checkHostPort(flag, v string) error {
	if v == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || net.ParseIP(host) == nil || port == "" {
		return fmt.Errorf("--%s %q: want IP:port", flag, v)
	}
	return nil
}
