package ec2

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Public IPv4 addresses assigned at launch (a subnet's MapPublicIpOnLaunch,
// or NetworkInterface.1.AssociatePublicIpAddress). They come from the
// operator's pool, as elastic IPs do, and are stored beside them (kind
// auto), so the node maps both the same way; they are not elastic IPs:
// DescribeAddresses does not list them. As EC2 does, an instance's public
// IP is released when it stops or terminates, or when an elastic IP is
// associated with its primary address, and a new one is assigned when it
// starts again or that elastic IP leaves, unless the instance has more
// than one network interface by then.

// publicIPOwner is the IpOwnerId EC2 shows for an auto-assigned address.
const publicIPOwner = "amazon"

// ipOwner is an address's IpOwnerId in an interface's Association: the
// account for an elastic IP, "amazon" for an auto-assigned one.
func ipOwner(a store.Address) string {
	if a.Auto {
		return publicIPOwner
	}
	return a.AccountID
}

// codePublicIPCapacity is EC2's code for a pool with no free address.
const codePublicIPCapacity = "InsufficientAddressCapacity"

// errPublicIPCapacity is the answer when the pool has no free address.
func errPublicIPCapacity() error {
	return awsapi.NewError(codePublicIPCapacity, http.StatusInternalServerError,
		"There are not enough free addresses in the public IPv4 pool to satisfy the request.")
}

// publicIPPool hands out free addresses of the pool inside one
// transaction. Opening it takes LockAddresses (so concurrent writers
// cannot pick the same address) and returns lapsed auto-assigned
// addresses to the pool first.
type publicIPPool struct {
	pool  AddressPool
	taken map[string]bool
}

func (s *Service) openPublicIPPool(ctx context.Context, tx *store.Tx) (*publicIPPool, error) {
	if err := tx.LockAddresses(ctx); err != nil {
		return nil, err
	}
	if _, err := tx.SweepPublicIPs(ctx); err != nil {
		return nil, err
	}
	used, err := tx.AllocatedPublicIPs(ctx)
	if err != nil {
		return nil, err
	}
	p := &publicIPPool{pool: s.Cfg.PublicIPs, taken: make(map[string]bool, len(used))}
	for _, ip := range used {
		p.taken[ip] = true
	}
	return p, nil
}

// assign gives an interface's primary private address a public IP.
func (p *publicIPPool) assign(ctx context.Context, tx *store.Tx, eni store.NetworkInterface) (store.Address, error) {
	ip, ok := p.pool.Free(p.taken)
	if !ok {
		return store.Address{}, errPublicIPCapacity()
	}
	a := store.Address{AccountID: eni.AccountID, PublicIP: ip.String(), Auto: true,
		NetworkInterfaceID: eni.ID, PrivateIP: eni.PrivateIP, InstanceID: eni.InstanceID, CreatedAt: time.Now().UTC()}
	if err := tx.DeleteInterfacePublicIPs(ctx, eni.ID); err != nil {
		return store.Address{}, err
	}
	if err := tx.InsertAddress(ctx, a); err != nil {
		return store.Address{}, err
	}
	p.taken[a.PublicIP] = true
	return a, nil
}

// wantsLaunchPublicIP decides whether a new instance in sn gets a public
// IP: the request's AssociatePublicIpAddress, else the subnet's
// attribute. Without a configured pool, a subnet's attribute alone asks
// for nothing (there are no public addresses to give).
func (s *Service) wantsLaunchPublicIP(l *launch, sn store.Subnet) bool {
	if l.publicIP != nil {
		return *l.publicIP
	}
	return sn.MapPublicIPOnLaunch && !s.Cfg.PublicIPs.Empty()
}

// launchPublicIP records a new primary interface's public IP choice and,
// when it wants one, assigns it (opening the pool on first use).
func (s *Service) launchPublicIP(ctx context.Context, tx *store.Tx, l *launch, sn store.Subnet, eni store.NetworkInterface) (store.Address, error) {
	if !s.wantsLaunchPublicIP(l, sn) {
		return store.Address{}, nil
	}
	if err := tx.SetInterfacePublicIP(ctx, eni.AccountID, eni.ID, true); err != nil {
		return store.Address{}, err
	}
	if l.ipPool == nil {
		var err error
		if l.ipPool, err = s.openPublicIPPool(ctx, tx); err != nil {
			return store.Address{}, err
		}
	}
	return l.ipPool.assign(ctx, tx, eni)
}

// releasePublicIPs returns an instance's auto-assigned public IPs to the
// pool (StopInstances, TerminateInstances). The choice made at launch
// stays, for the next start.
func releasePublicIPs(ctx context.Context, tx *store.Tx, instanceID string) error {
	enis, err := tx.InstanceNetworkInterfaces(ctx, instanceID)
	if err != nil {
		return err
	}
	for _, n := range enis {
		if err := tx.DeleteInterfacePublicIPs(ctx, n.ID); err != nil {
			return err
		}
	}
	return nil
}

// autoPublicIPTarget returns the instance's primary interface when it is
// to have an auto-assigned public IP now: it was launched with one, the
// instance has no other interface, and no elastic IP is on its primary
// address.
func autoPublicIPTarget(ctx context.Context, tx *store.Tx, instanceID string) (store.NetworkInterface, bool, error) {
	enis, err := tx.InstanceNetworkInterfaces(ctx, instanceID)
	if err != nil || len(enis) != 1 || enis[0].DeviceIndex != 0 {
		return store.NetworkInterface{}, false, err
	}
	eni := enis[0]
	want, err := tx.InterfacePublicIP(ctx, eni.ID)
	if err != nil || !want {
		return eni, false, err
	}
	mapped, err := tx.NetworkInterfaceAddresses(ctx, eni.ID)
	if err != nil {
		return eni, false, err
	}
	for _, a := range mapped {
		if !a.Auto && a.PrivateIP == eni.PrivateIP {
			return eni, false, nil
		}
	}
	return eni, true, nil
}

// startPublicIPs assigns new public IPs to the instances a StartInstances
// request starts (those going from stopped to pending).
func (s *Service) startPublicIPs(ctx context.Context, tx *store.Tx, batch []pendingChange) error {
	var pool *publicIPPool
	for _, c := range batch {
		if c.t.Current != instancestate.Pending || !c.t.Changed() {
			continue
		}
		eni, ok, err := autoPublicIPTarget(ctx, tx, c.inst.ID)
		if err != nil || !ok {
			return err
		}
		if pool == nil {
			if pool, err = s.openPublicIPPool(ctx, tx); err != nil {
				return err
			}
		}
		if _, err := pool.assign(ctx, tx, eni); err != nil {
			return err
		}
	}
	return nil
}

// restorePublicIP gives an instance whose primary address lost its
// elastic IP a new auto-assigned public IP, when it was launched with one
// and is not stopped or going away (a stopped one gets it when it starts).
// A pool with no free address leaves the instance without one.
func (s *Service) restorePublicIP(ctx context.Context, tx *store.Tx, account, instanceID string) error {
	if instanceID == "" {
		return nil
	}
	inst, err := tx.GetInstance(ctx, account, instanceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch instancestate.State(inst.State) {
	case instancestate.Pending, instancestate.Running:
	default:
		return nil
	}
	eni, ok, err := autoPublicIPTarget(ctx, tx, instanceID)
	if err != nil || !ok {
		return err
	}
	pool, err := s.openPublicIPPool(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := pool.assign(ctx, tx, eni); err != nil {
		var ae *awsapi.Error
		if errors.As(err, &ae) && ae.Code == codePublicIPCapacity {
			return nil // no free address: the instance stays without one
		}
		return err
	}
	return nil
}
