package ec2

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/store"
)

// updateNetwork is update for changes the nodes carry out (routes,
// internet gateways, DHCP options): when it commits, every connected node
// recomputes its desired state.
func (s *Service) updateNetwork(ctx context.Context, fn func(ctx context.Context, tx *store.Tx, account string) error) error {
	err := s.update(ctx, fn)
	if err == nil {
		s.notifyAll()
	}
	return err
}
