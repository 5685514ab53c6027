package ec2

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/store"
)

// requireInternetGateway refuses an elastic IP association in a VPC with no
// internet gateway attached, as EC2 does (Gateway.NotAttached): an elastic
// IP is reachable only through one. Terraform's aws_eip_association relies
// on that order (reference §2, aws_eip_association).
func requireInternetGateway(ctx context.Context, tx *store.Tx, account, vpcID string) error {
	gws, err := tx.ListInternetGateways(ctx, account)
	if err != nil {
		return err
	}
	for _, g := range gws {
		if g.VPCID == vpcID {
			return nil
		}
	}
	return apiErr("Gateway.NotAttached", "Network %s is not attached to any internet gateway", vpcID)
}
