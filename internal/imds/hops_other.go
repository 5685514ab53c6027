//go:build !linux

package imds

import "net"

// setHopLimit is not implemented off Linux, where the node agent runs.
func setHopLimit(net.Conn, int) bool { return false }
