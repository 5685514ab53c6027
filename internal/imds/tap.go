package imds

import "context"

type tapKey struct{}

// WithTap returns ctx carrying the name of the tap (or listener) a
// connection arrived on. The agent sets it in http.Server.ConnContext or
// BaseContext of the listener it runs for each tap, and its Lookup reads it
// back with TapFrom: the answer then depends on the interface, not on a
// source address the guest chose.
func WithTap(ctx context.Context, tap string) context.Context {
	return context.WithValue(ctx, tapKey{}, tap)
}

// TapFrom returns the tap name WithTap put in ctx.
func TapFrom(ctx context.Context) (string, bool) {
	tap, ok := ctx.Value(tapKey{}).(string)
	return tap, ok && tap != ""
}
