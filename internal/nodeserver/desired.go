package nodeserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Desired computes a node's complete desired state from the database.
func (s *Server) Desired(ctx context.Context, nodeID string) (*nodeapi.Desired, error) {
	d := &nodeapi.Desired{NodeID: nodeID, Instances: []nodeapi.InstanceSpec{}}
	err := s.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		node, err := tx.FindNode(ctx, nodeID)
		if err != nil {
			return err
		}
		d.Draining = node.State == StateDraining
		list, err := tx.ListNodeDesiredInstances(ctx, nodeID)
		if err != nil {
			return err
		}
		for _, inst := range list {
			spec, err := s.spec(ctx, tx, inst)
			if err != nil {
				return err
			}
			if err := instanceVolumes(ctx, tx, nodeID, &spec); err != nil {
				return fmt.Errorf("instance %s volumes: %w", inst.ID, err)
			}
			d.Instances = append(d.Instances, spec)
		}
		if d.Volumes, err = nodeVolumes(ctx, tx, nodeID); err != nil {
			return err
		}
		if d.Snapshots, err = nodeSnapshots(ctx, tx, nodeID); err != nil {
			return err
		}
		if d.VPCs, err = vpcNetworks(ctx, tx, nodeID); err != nil {
			return err
		}
		return s.addDNS(ctx, tx, d.VPCs)
	})
	if err != nil {
		return nil, fmt.Errorf("desired state of node %s: %w", nodeID, err)
	}
	return d, nil
}

// spec fills everything a node needs to run one instance.
func (s *Server) spec(ctx context.Context, tx *store.Tx, i store.Instance) (nodeapi.InstanceSpec, error) {
	sp := nodeapi.InstanceSpec{ID: i.ID, AccountID: i.AccountID, ReservationID: i.ReservationID, LaunchIndex: i.LaunchIndex,
		ImageID: i.ImageID, InstanceType: i.InstanceType, VCPUs: i.VCPUs, MemoryMiB: i.MemoryMiB,
		Power: nodeapi.Power(i.DesiredPower), ForceStop: i.ForceStop, RebootSeq: i.RebootSeq,
		KernelID: i.KernelID, RamdiskID: i.RamdiskID, RootSnapshotID: i.RootSnapshotID, RootSizeGiB: i.RootSizeGiB,
		RootDeviceName: i.RootDeviceName, SMBIOSUUID: i.SMBIOSUUID, Region: s.region, AvailabilityZone: i.AvailabilityZone,
		LaunchTime: i.LaunchTime, KeyName: i.KeyName,
		SecurityGroups: []string{}, SecurityGroupIDs: []string{}}
	if i.State == "terminated" || sp.Power == "" {
		sp.Power = nodeapi.PowerTerminated
	}
	var err error
	if i.KernelID != "" {
		if sp.KernelKey, err = tx.BootFileLocation(ctx, i.KernelID); err != nil {
			return sp, fmt.Errorf("instance %s kernel: %w", i.ID, err)
		}
	}
	if i.RamdiskID != "" {
		if sp.RamdiskKey, err = tx.BootFileLocation(ctx, i.RamdiskID); err != nil {
			return sp, fmt.Errorf("instance %s ramdisk: %w", i.ID, err)
		}
	}
	if sp.Network, sp.Extra, err = interfaces(ctx, tx, i.ID); err != nil {
		return sp, err
	}
	for _, g := range i.SecurityGroupIDs {
		name, err := tx.SecurityGroupName(ctx, g)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since: nothing to enforce
		}
		if err != nil {
			return sp, err
		}
		sp.SecurityGroupIDs, sp.SecurityGroups = append(sp.SecurityGroupIDs, g), append(sp.SecurityGroups, name)
	}
	if i.KeyName != "" {
		sp.PublicKey, err = tx.GetKeyPairPublicKey(ctx, i.AccountID, i.KeyName)
		if err != nil && !errors.Is(err, store.ErrNotFound) { // a deleted key pair leaves the instance without one, as in EC2
			return sp, err
		}
	}
	if i.UserData != "" {
		if sp.UserData, err = base64.StdEncoding.DecodeString(i.UserData); err != nil {
			return sp, fmt.Errorf("instance %s user data: %w", i.ID, err)
		}
	}
	return sp, nil
}

// interfaces returns an instance's primary interface (zero when it has
// none yet: the node waits) and the others, by device index.
func interfaces(ctx context.Context, tx *store.Tx, instanceID string) (nodeapi.NetworkInterface, []nodeapi.NetworkInterface, error) {
	list, err := tx.InstanceInterfaceNetworks(ctx, instanceID)
	if err != nil {
		return nodeapi.NetworkInterface{}, nil, err
	}
	var primary nodeapi.NetworkInterface
	var extra []nodeapi.NetworkInterface
	for _, n := range list {
		ni, err := network(ctx, tx, n)
		if err != nil {
			return primary, nil, fmt.Errorf("instance %s: %w", instanceID, err)
		}
		if n.DeviceIndex == 0 {
			primary = ni
		} else {
			extra = append(extra, ni)
		}
	}
	return primary, extra, nil
}

// network is what a node needs of one interface.
func network(ctx context.Context, tx *store.Tx, n store.InterfaceNetwork) (nodeapi.NetworkInterface, error) {
	gw, err := gateway(n.SubnetCIDR)
	if err != nil {
		return nodeapi.NetworkInterface{}, fmt.Errorf("subnet %s: %w", n.SubnetID, err)
	}
	dhcp, err := tx.DHCPForVPC(ctx, n.VPCID)
	if err != nil {
		return nodeapi.NetworkInterface{}, fmt.Errorf("DHCP options of %s: %w", n.VPCID, err)
	}
	servers, err := dnsServers(ctx, tx, n.VPCID, dhcp.DomainNameServers)
	if err != nil {
		return nodeapi.NetworkInterface{}, fmt.Errorf("DNS servers of %s: %w", n.VPCID, err)
	}
	out := nodeapi.NetworkInterface{InterfaceID: n.ID, DeviceIndex: n.DeviceIndex, MAC: strings.ToLower(n.MAC), PrivateIP: n.PrivateIP,
		SubnetID: n.SubnetID, SubnetCIDR: n.SubnetCIDR, Gateway: gw, VPCID: n.VPCID, VPCCIDR: n.VPCCIDR,
		SecondaryIPs: n.SecondaryIPs, NoSourceDestCheck: n.NoSourceDestCheck,
		DNS: servers, DomainName: dhcp.DomainName}
	if err := publicIPs(ctx, tx, n, &out); err != nil {
		return out, err
	}
	if out.InternetRoutes, err = tx.SubnetInternetRoutes(ctx, n.SubnetID); err != nil {
		return out, err
	}
	if out.Routes, err = targetRoutes(ctx, tx, n.SubnetID); err != nil {
		return out, err
	}
	out.SecurityGroupIDs, out.SecurityGroupNames, err = existingGroups(ctx, tx, n.GroupIDs)
	return out, err
}

// existingGroups drops the groups deleted since (nothing to enforce).
func existingGroups(ctx context.Context, tx *store.Tx, ids []string) (found, names []string, err error) {
	for _, g := range ids {
		name, err := tx.SecurityGroupName(ctx, g)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		found, names = append(found, g), append(names, name)
	}
	return found, names, nil
}

// publicIPs fills the public addresses mapped to an interface's private
// ones: PublicIP for the primary, PublicIPs (public → private) for the
// secondary addresses.
func publicIPs(ctx context.Context, tx *store.Tx, n store.InterfaceNetwork, out *nodeapi.NetworkInterface) error {
	list, err := tx.NetworkInterfaceAddresses(ctx, n.ID)
	if err != nil {
		return fmt.Errorf("elastic IPs of %s: %w", n.ID, err)
	}
	for _, a := range list {
		switch {
		case a.PrivateIP == n.PrivateIP:
			if out.PublicIP == "" || !a.Auto { // an elastic IP takes the place of an auto-assigned one
				out.PublicIP = a.PublicIP
			}
		case slices.Contains(n.SecondaryIPs, a.PrivateIP):
			if out.PublicIPs == nil {
				out.PublicIPs = map[string]string{}
			}
			out.PublicIPs[a.PublicIP] = a.PrivateIP
		}
	}
	return nil
}

// gateway is a subnet's first host address (10.0.1.0/24 → 10.0.1.1).
func gateway(cidr string) (string, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", err
	}
	return p.Masked().Addr().Next().String(), nil
}
