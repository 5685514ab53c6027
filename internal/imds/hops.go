package imds

import (
	"context"
	"net"
	"net/http"
)

type connKey struct{}

// MaxHopLimit is the largest HttpPutResponseHopLimit EC2 accepts.
const MaxHopLimit = 64

// ConnContext is an http.Server.ConnContext for the listener the agent runs
// on one guest's tap: it records the tap (for Lookup, see TapFrom) and the
// connection (so the token's response can honour the hop limit).
func ConnContext(tap string) func(context.Context, net.Conn) context.Context {
	return func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(WithTap(ctx, tap), connKey{}, c)
	}
}

// limitHops sets the IP TTL (hop limit) of the request's connection to
// HTTPPutResponseHopLimit, as EC2 does for the token's response, so that a
// token cannot travel further than that many hops (e.g. out of a container
// behind the guest's NAT). 0 leaves the connection alone. It reports
// whether the limit was applied; the connection is then closed after the
// response instead of serving later requests with the lowered TTL.
func limitHops(w http.ResponseWriter, r *http.Request, hops int) bool {
	if hops < 1 || hops > MaxHopLimit {
		return false
	}
	c, ok := r.Context().Value(connKey{}).(net.Conn)
	if !ok || !setHopLimit(c, hops) {
		return false
	}
	w.Header().Set("Connection", "close")
	return true
}
