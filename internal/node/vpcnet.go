package node

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kumo-cloud/kumo/internal/guestnet"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/sgfilter"
)

// Repair kinds, the label of kumo_node_network_repairs_total.
const (
	repairOverlay        = "overlay"
	repairSecurityGroups = "security_groups"
	repairBridge         = "bridge"
)

// vpcNet applies the desired VPC networks (overlay and security groups) in
// the VPC namespaces this node has made, and repairs them, the bridges and
// the taps when they drift. One goroutine (loop) does all the work; the
// rest of the agent only records what it wants and kicks it.
type vpcNet struct {
	a       *agent
	kick    chan struct{}
	repairs *prometheus.CounterVec

	mu      sync.Mutex
	vpcs    map[string]nodeapi.VPCNetwork // the last Desired's, by VPC id
	ready   map[string]bool               // VPCs whose namespace this process made
	subnets map[string]Subnet             // by subnet id, as EnsureSubnet returned it

	publicPool []string // the last Desired's PublicPool

	// Owned by loop: what was last applied, by VPC id.
	overlay map[string][sha256.Size]byte
	filter  map[string][sha256.Size]byte
	public  publicState
	routes  routesState // by subnet id
}

func newVPCNet(a *agent, reg *prometheus.Registry) *vpcNet {
	v := &vpcNet{
		a: a, kick: make(chan struct{}, 1),
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kumo_node_network_repairs_total",
			Help: "Network state found drifted from the desired one and re-applied, by kind.",
		}, []string{"kind"}),
		vpcs: map[string]nodeapi.VPCNetwork{}, ready: map[string]bool{}, subnets: map[string]Subnet{},
		overlay: map[string][sha256.Size]byte{}, filter: map[string][sha256.Size]byte{},
		public: publicState{vpc: map[string][sha256.Size]byte{}}, routes: routesState{},
	}
	if err := reg.Register(v.repairs); err != nil {
		var dup prometheus.AlreadyRegisteredError
		if errors.As(err, &dup) { // an agent run again with the same registry
			v.repairs = dup.ExistingCollector.(*prometheus.CounterVec)
		} else {
			a.log.Error("register metrics", "err", err)
		}
	}
	for _, k := range []string{repairOverlay, repairSecurityGroups, repairBridge, repairPublic, repairRoutes} {
		v.repairs.WithLabelValues(k)
	}
	return v
}

func (v *vpcNet) wake() {
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

// setDesired records the VPCs of a Desired.
func (v *vpcNet) setDesired(vpcs []nodeapi.VPCNetwork) {
	m := make(map[string]nodeapi.VPCNetwork, len(vpcs))
	for _, n := range vpcs {
		m[n.VPCID] = n
	}
	v.mu.Lock()
	v.vpcs = m
	v.mu.Unlock()
	v.wake()
}

// setPool records the operator's public pool of a Desired.
func (v *vpcNet) setPool(pool []string) {
	v.mu.Lock()
	changed := !slices.Equal(v.publicPool, pool)
	v.publicPool = slices.Clone(pool)
	v.mu.Unlock()
	if changed {
		v.wake()
	}
}

// madeSubnet records a subnet EnsureSubnet made or confirmed.
func (v *vpcNet) madeSubnet(subnetID string, s Subnet) {
	v.mu.Lock()
	_, known := v.subnets[subnetID]
	v.subnets[subnetID] = s
	newVPC := !v.ready[s.VPCID]
	v.ready[s.VPCID] = true
	v.mu.Unlock()
	if !known || newVPC {
		v.wake() // a new bridge needs proxy ARP and the overlay a namespace
	}
}

// dropped forgets a VPC whose namespace was deleted (called under
// agent.vpcMu's write lock).
func (v *vpcNet) dropped(vpcID string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.ready, vpcID)
	for id, s := range v.subnets {
		if s.VPCID == vpcID {
			delete(v.subnets, id)
		}
	}
}

func (v *vpcNet) interval() time.Duration {
	if v.a.cfg.RepairInterval > 0 {
		return v.a.cfg.RepairInterval
	}
	return DefaultRepairInterval
}

// loop applies changes when kicked and looks for drift every interval.
func (v *vpcNet) loop(ctx context.Context) {
	if v.a.cfg.Network == nil {
		return
	}
	t := time.NewTicker(v.interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-v.kick:
			v.sync(ctx, false)
		case <-t.C:
			v.sync(ctx, true)
		}
	}
}

// sync applies what changed since the last call and, with check, repairs
// what drifted.
func (v *vpcNet) sync(ctx context.Context, check bool) {
	v.a.vpcMu.RLock()
	defer v.a.vpcMu.RUnlock()
	specs := v.a.specs()
	if check {
		v.repairLinks(ctx, specs)
	}
	v.mu.Lock()
	var todo []nodeapi.VPCNetwork
	for id, n := range v.vpcs {
		if v.ready[id] {
			todo = append(todo, n)
		}
	}
	for id := range v.overlay {
		if !v.ready[id] {
			delete(v.overlay, id)
			delete(v.filter, id)
			delete(v.public.vpc, id)
		}
	}
	for id := range v.routes {
		if _, ok := v.subnets[id]; !ok {
			delete(v.routes, id) // its namespace is gone: apply afresh if it comes back
		}
	}
	v.mu.Unlock()
	sort.Slice(todo, func(i, j int) bool { return todo[i].VPCID < todo[j].VPCID })
	for _, n := range todo {
		if ctx.Err() != nil {
			return
		}
		v.syncOverlay(ctx, n, specs, check)
		v.syncFilter(ctx, n, specs, check)
		if rn, ok := v.a.cfg.Network.(RouteNetwork); ok {
			v.syncRoutes(ctx, rn, n, specs, check)
		}
	}
	if pn, ok := v.a.cfg.Network.(PublicNetwork); ok && ctx.Err() == nil {
		var ids []string
		var addrs []guestnet.PublicAddr
		for _, n := range todo {
			ids = append(ids, n.VPCID)
			for _, m := range v.syncPublic(ctx, pn, n.VPCID, specs, check) {
				addrs = append(addrs, guestnet.PublicAddr{VPCID: n.VPCID, Addr: m.Public})
			}
		}
		v.syncHost(ctx, pn, ids, addrs, check)
	}
}

// repairLinks re-makes the bridge and tap of each interface of a running
// guest whose bridge or tap is gone.
func (v *vpcNet) repairLinks(ctx context.Context, specs []nodeapi.InstanceSpec) {
	for _, s := range specs {
		if s.Power != nodeapi.PowerRunning {
			continue
		}
		for _, n := range interfaces(s) {
			v.repairLink(ctx, s, n)
		}
	}
}

func (v *vpcNet) repairLink(ctx context.Context, s nodeapi.InstanceSpec, n nodeapi.NetworkInterface) {
	nw := v.a.cfg.Network
	v.mu.Lock()
	sub, ok := v.subnets[n.SubnetID]
	ok = ok && v.ready[n.VPCID] && sub.VPCID == n.VPCID
	v.mu.Unlock()
	if !ok {
		return
	}
	missing, err := nw.CheckLinks(ctx, sub, tapOf(s, n))
	if err != nil {
		v.a.log.Warn("check bridge and tap", "instance", s.ID, "interface", n.InterfaceID, "err", err)
		return
	}
	if !missing {
		return
	}
	tapGone := v.tapGone(ctx, sub, tapOf(s, n))
	v.a.log.Warn("bridge or tap of a guest missing; re-making them", "instance", s.ID, "interface", n.InterfaceID,
		"vpc", n.VPCID, "subnet", n.SubnetID)
	// DHCP and the metadata service may have lost their bridge or
	// namespace: they restart with it.
	v.a.net.stopVPC(n.VPCID)
	sub, err = v.a.ensureSubnet(ctx, n)
	if err == nil {
		_, err = nw.EnsureTap(ctx, sub, tapID(s, n))
	}
	if err != nil {
		v.a.log.Error("repair bridge and tap", "instance", s.ID, "interface", n.InterfaceID, "err", err)
		return
	}
	v.repairs.WithLabelValues(repairBridge).Inc()
	if tapGone && n.DeviceIndex > 0 {
		v.a.mu.Lock()
		w := v.a.workers[s.ID]
		v.a.mu.Unlock()
		if w != nil {
			w.requestReplug(n.InterfaceID) // the guest's device holds the old tap
		}
	}
	v.mu.Lock()
	delete(v.overlay, n.VPCID) // a new bridge needs proxy ARP
	delete(v.filter, n.VPCID)
	delete(v.public.vpc, n.VPCID)
	delete(v.routes, n.SubnetID)
	v.mu.Unlock()
}

// TapChecker is a Network that can tell whether a tap exists (GuestNet
// is one): a tap re-made under a running guest must be plugged again.
type TapChecker interface {
	TapExists(ctx context.Context, s Subnet, tap string) (bool, error)
}

// tapGone reports whether the tap is known to be gone (not merely off its
// bridge, whose repair re-enslaves it).
func (v *vpcNet) tapGone(ctx context.Context, s Subnet, tap string) bool {
	tc, ok := v.a.cfg.Network.(TapChecker)
	if !ok {
		return false
	}
	exists, err := tc.TapExists(ctx, s, tap)
	return err == nil && !exists
}

func (v *vpcNet) syncOverlay(ctx context.Context, n nodeapi.VPCNetwork, specs []nodeapi.InstanceSpec, check bool) {
	under := v.a.cfg.Underlay
	if !under.IsValid() || n.VNI == 0 {
		return
	}
	peers := v.peers(n, specs)
	key := hashOf(struct {
		VNI   uint32
		Peers []guestnet.Peer
	}{n.VNI, peers})
	nw := v.a.cfg.Network
	if v.overlay[n.VPCID] == key {
		if !check {
			return
		}
		drift, err := nw.CheckOverlay(ctx, n.VPCID, n.VNI, under, peers)
		if err != nil {
			v.a.log.Warn("check overlay", "vpc", n.VPCID, "err", err)
		}
		if !drift {
			return
		}
		v.a.log.Warn("overlay drifted; re-applying", "vpc", n.VPCID, "vni", n.VNI)
		v.repairs.WithLabelValues(repairOverlay).Inc()
	}
	if err := nw.EnsureOverlay(ctx, n.VPCID, n.VNI, under, peers); err != nil {
		v.a.log.Error("apply overlay", "vpc", n.VPCID, "err", err)
		delete(v.overlay, n.VPCID)
		return
	}
	v.overlay[n.VPCID] = key
}

// peers parses a VPC's peers, skipping (with a log line) bad addresses
// and addresses of this node's own guests (routing them away would cut
// those guests off).
func (v *vpcNet) peers(n nodeapi.VPCNetwork, specs []nodeapi.InstanceSpec) []guestnet.Peer {
	local := map[netip.Addr]bool{}
	for _, s := range specs {
		if s.Network.VPCID != n.VPCID {
			continue
		}
		for _, ip := range privateIPs(s) {
			local[ip] = true
		}
	}
	var out []guestnet.Peer
	for _, p := range n.Peers {
		u, err := netip.ParseAddr(p.Underlay)
		if err != nil {
			v.a.log.Warn("skipping a peer with a bad underlay address", "vpc", n.VPCID, "underlay", p.Underlay)
			continue
		}
		peer := guestnet.Peer{Underlay: u.Unmap()}
		for _, g := range p.Guests {
			ip, err := netip.ParseAddr(g)
			if err != nil || !ip.Unmap().Is4() || local[ip.Unmap()] {
				v.a.log.Warn("skipping a bad peer guest address (not IPv4, or a guest of this node)", "vpc", n.VPCID, "underlay", p.Underlay, "guest", g)
				continue
			}
			peer.Guests = append(peer.Guests, ip.Unmap())
		}
		out = append(out, peer)
	}
	return out
}

func (v *vpcNet) syncFilter(ctx context.Context, n nodeapi.VPCNetwork, specs []nodeapi.InstanceSpec, check bool) {
	d := v.filterOf(n, specs)
	if len(d.Interfaces) == 0 {
		return
	}
	key := hashOf(d)
	nw := v.a.cfg.Network
	if v.filter[n.VPCID] == key {
		if !check {
			return
		}
		drift, err := nw.CheckFilter(ctx, n.VPCID, d)
		if err != nil {
			v.a.log.Warn("check security groups", "vpc", n.VPCID, "err", err)
		}
		if !drift {
			return
		}
		v.a.log.Warn("security group rules drifted; re-applying", "vpc", n.VPCID)
		v.repairs.WithLabelValues(repairSecurityGroups).Inc()
	}
	if err := nw.ApplyFilter(ctx, n.VPCID, d); err != nil {
		v.a.log.Error("apply security groups", "vpc", n.VPCID, "err", err)
		delete(v.filter, n.VPCID)
		return
	}
	v.filter[n.VPCID] = key
}

// filterOf builds the security-group state of a VPC's namespace: its
// groups and this node's interfaces in it. A group an interface names but
// the server did not send is left out of the interface (fewer rules let
// less in).
func (v *vpcNet) filterOf(n nodeapi.VPCNetwork, specs []nodeapi.InstanceSpec) sgfilter.Desired {
	d := sgfilter.Desired{Groups: map[string]sgfilter.Group{}, Members: map[string][]netip.Addr{}}
	for _, g := range n.SecurityGroups {
		d.Groups[g.ID] = sgfilter.Group{ID: g.ID, Ingress: v.rules(n.VPCID, g.Ingress), Egress: v.rules(n.VPCID, g.Egress)}
		for _, m := range g.Members {
			if ip, err := netip.ParseAddr(m); err == nil && ip.Unmap().Is4() {
				d.Members[g.ID] = append(d.Members[g.ID], ip.Unmap())
			}
		}
	}
	for _, s := range specs {
		if s.Network.VPCID != n.VPCID {
			continue
		}
		for _, ni := range interfaces(s) {
			if ifc, ok := v.iface(n.VPCID, s, ni, d.Groups); ok {
				d.Interfaces = append(d.Interfaces, ifc)
			}
		}
	}
	sort.Slice(d.Interfaces, func(i, j int) bool { return d.Interfaces[i].Tap < d.Interfaces[j].Tap })
	d.ACLs = v.networkACLs(n)
	return d
}

// iface is one of an instance's interfaces as the filter sees it: its own
// tap, MAC and addresses (primary and secondary), its groups (the
// instance's when it names none) and its source/destination check.
func (v *vpcNet) iface(vpcID string, s nodeapi.InstanceSpec, n nodeapi.NetworkInterface, groups map[string]sgfilter.Group) (sgfilter.Interface, bool) {
	mac, err1 := net.ParseMAC(n.MAC)
	ip, err2 := netip.ParseAddr(n.PrivateIP)
	if err := errors.Join(err1, err2); err != nil || len(mac) != 6 || !ip.Unmap().Is4() {
		v.a.log.Warn("interface left out of the security groups: bad MAC or address", "instance", s.ID, "interface", n.InterfaceID, "vpc", vpcID, "err", err)
		return sgfilter.Interface{}, false
	}
	ifc := sgfilter.Interface{Tap: tapOf(s, n), MAC: mac, IPs: ifaceIPs(n), SourceDestCheck: !n.NoSourceDestCheck}
	ids := n.SecurityGroupIDs
	if len(ids) == 0 {
		ids = s.SecurityGroupIDs
	}
	for _, g := range ids {
		if _, ok := groups[g]; !ok {
			v.a.log.Warn("security group of an interface not sent by the server", "instance", s.ID, "interface", n.InterfaceID, "group", g)
			continue
		}
		if !slices.Contains(ifc.Groups, g) {
			ifc.Groups = append(ifc.Groups, g)
		}
	}
	return ifc, true
}

func (v *vpcNet) rules(vpcID string, in []nodeapi.SGRule) []sgfilter.Rule {
	out := make([]sgfilter.Rule, 0, len(in))
	for _, r := range in {
		rule := sgfilter.Rule{Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort, Groups: r.Groups}
		for _, c := range r.CIDRs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				v.a.log.Warn("security group rule: skipping a bad CIDR", "vpc", vpcID, "cidr", c)
				continue
			}
			rule.CIDRs = append(rule.CIDRs, p.Masked())
		}
		if len(r.CIDRs) > 0 && len(rule.CIDRs) == 0 && len(r.Groups) == 0 {
			continue // every source was bad: the rule must not become "from anywhere"
		}
		out = append(out, rule)
	}
	return out
}

// hashOf is a digest of a value's JSON (maps are encoded sorted).
func hashOf(x any) [sha256.Size]byte {
	b, err := json.Marshal(x)
	if err != nil {
		return [sha256.Size]byte{} // never equal to a real digest of what was applied
	}
	return sha256.Sum256(b)
}

// serveMetrics serves the agent's registry at /metrics on addr until ctx
// ends.
func (a *agent) serveMetrics(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics listener", "err", err)
		}
	}()
	a.log.Info("serving metrics", "addr", ln.Addr().String())
	return nil
}

// networkACLs converts a VPC's subnet ACLs for the filter. A subnet with a
// bad range is left out (logged); a bad entry (range, protocol, ports)
// becomes "deny everything" at its rule number, so that a broken entry never
// lets more through than the ACL meant nor stops the security groups from
// being applied.
func (v *vpcNet) networkACLs(n nodeapi.VPCNetwork) []sgfilter.SubnetACL {
	var out []sgfilter.SubnetACL
	for _, a := range n.NetworkACLs {
		cidr, err := netip.ParsePrefix(a.CIDR)
		if err != nil || !cidr.Addr().Is4() {
			v.a.log.Warn("network ACL: skipping a subnet with a bad range", "vpc", n.VPCID, "subnet", a.SubnetID, "cidr", a.CIDR)
			continue
		}
		acl := sgfilter.SubnetACL{SubnetID: a.SubnetID, CIDR: cidr.Masked()}
		for _, e := range a.Entries {
			entry := sgfilter.ACLEntry{RuleNumber: e.RuleNumber, Egress: e.Egress, Allow: e.Allow, Protocol: e.Protocol,
				FromPort: e.FromPort, ToPort: e.ToPort}
			p, err := netip.ParsePrefix(e.CIDR)
			entry.CIDR = p.Masked()
			if err == nil {
				err = entry.Validate()
			}
			if err != nil {
				v.a.log.Warn("network ACL: a bad entry denies everything", "vpc", n.VPCID, "acl", a.NetworkACLID, "rule", e.RuleNumber, "err", err)
				entry = sgfilter.ACLEntry{RuleNumber: min(max(e.RuleNumber, 1), 32767), Egress: e.Egress, Protocol: "-1",
					CIDR: netip.PrefixFrom(netip.IPv4Unspecified(), 0)}
			}
			acl.Entries = append(acl.Entries, entry)
		}
		out = append(out, acl)
	}
	return out
}
