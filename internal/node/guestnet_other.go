//go:build !linux

package node

import (
	"context"
	"errors"

	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// ApplyFilter implements Network (Linux only).
func (g GuestNet) ApplyFilter(context.Context, string, sgfilter.Desired) error {
	return errors.ErrUnsupported
}

// CheckFilter implements Network (Linux only).
func (g GuestNet) CheckFilter(context.Context, string, sgfilter.Desired) (bool, error) {
	return false, errors.ErrUnsupported
}

// CheckLinks implements Network (Linux only).
func (g GuestNet) CheckLinks(context.Context, Subnet, string) (bool, error) {
	return false, errors.ErrUnsupported
}

// PublicNetwork needs Linux: GuestNet does not implement it elsewhere.
