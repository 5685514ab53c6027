package ec2

import (
	"context"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/scheduler"
	"github.com/kumo-cloud/kumo/internal/store"
)

func lifecycleAttrs(i store.Instance, now time.Time) instancestate.Attributes {
	return instancestate.Attributes{InstanceID: i.ID, DisableAPITermination: i.DisableAPITermination,
		ShutdownBehavior: instancestate.ShutdownBehavior(i.ShutdownBehavior), RootDeviceType: i.RootDeviceType,
		Clock: func() time.Time { return now }}
}

// applyTransition writes a lifecycle transition's state, reasons and
// reboot request into the row.
func applyTransition(i *store.Instance, t instancestate.Transition, now time.Time) {
	if t.Current != t.Previous {
		i.State, i.StateChangedAt = string(t.Current), now
	}
	if t.SetReason {
		i.StateTransitionReason = t.TransitionReason
		i.StateReasonCode, i.StateReasonMessage = t.Reason.Code, t.Reason.Message
	}
	if t.Reboot {
		i.RebootSeq++
	}
}

func stateChange(id string, t instancestate.Transition) ec2api.InstanceStateChange {
	return ec2api.InstanceStateChange{InstanceId: str(id), PreviousState: apiState(string(t.Previous)), CurrentState: apiState(string(t.Current))}
}

// lifecycleResult is what one action did to each instance.
type lifecycleResult struct {
	changes []ec2api.InstanceStateChange
	nodes   []string // to notify
}

// change runs action on the listed instances in one transaction: each is
// checked by instancestate.Request (any refusal fails the whole request,
// as EC2 does) and then finished by apply (which sets desired state).
func (s *Service) change(ctx context.Context, ids []string, action instancestate.Action,
	apply func(ctx context.Context, tx *store.Tx, batch []pendingChange, now time.Time) error) (lifecycleResult, error) {
	var res lifecycleResult
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		res = lifecycleResult{}
		list, err := accountInstances(ctx, tx, account, ids)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		var batch []pendingChange
		for _, i := range list {
			t, err := instancestate.Request(instancestate.State(i.State), action, lifecycleAttrs(i, now))
			if err != nil {
				return err
			}
			batch = append(batch, pendingChange{inst: i, t: t, oldNode: i.NodeID})
		}
		if err := apply(ctx, tx, batch, now); err != nil {
			return err
		}
		for _, c := range batch {
			res.changes = append(res.changes, stateChange(c.inst.ID, c.t))
			if !c.t.Changed() {
				continue
			}
			applyTransition(&c.inst, c.t, now)
			if err := tx.UpdateInstanceRequest(ctx, c.inst); err != nil {
				return err
			}
			res.nodes = append(res.nodes, c.oldNode, c.inst.NodeID)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	s.notify(res.nodes...)
	return res, nil
}

// pendingChange is one instance with the transition a request decided.
type pendingChange struct {
	inst    store.Instance
	t       instancestate.Transition
	oldNode string
}

// StopInstances asks the instances' nodes to power them off (ACPI, or at
// once with Force); their root disks stay where they are, their
// auto-assigned public IPs go back to the pool.
func (s *Service) StopInstances(ctx context.Context, in *ec2api.StopInstancesRequest) (*ec2api.StopInstancesResult, error) {
	if deref2(in.Hibernate) {
		return nil, apiErr("UnsupportedHibernationConfiguration", "Hibernation is not supported by Kumo.")
	}
	force := deref2(in.Force)
	res, err := s.change(ctx, in.InstanceIds, instancestate.Stop(force), func(ctx context.Context, tx *store.Tx, batch []pendingChange, _ time.Time) error {
		for k := range batch {
			if batch[k].t.Changed() {
				batch[k].inst.DesiredPower = string(nodeapi.PowerStopped)
				batch[k].inst.ForceStop = batch[k].inst.ForceStop || batch[k].t.Force || force
				if err := releasePublicIPs(ctx, tx, batch[k].inst.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.StopInstancesResult{StoppingInstances: res.changes}, nil
}

// RebootInstances asks the nodes of running instances to reboot them.
func (s *Service) RebootInstances(ctx context.Context, in *ec2api.RebootInstancesRequest) (*ec2api.RebootInstancesOutput, error) {
	_, err := s.change(ctx, in.InstanceIds, instancestate.Reboot(), func(context.Context, *store.Tx, []pendingChange, time.Time) error { return nil })
	if err != nil {
		return nil, err
	}
	return &ec2api.RebootInstancesOutput{}, nil
}

// TerminateInstances asks the nodes to delete the instances; one whose
// node is gone is terminated at once (there is nothing left to clean).
func (s *Service) TerminateInstances(ctx context.Context, in *ec2api.TerminateInstancesRequest) (*ec2api.TerminateInstancesResult, error) {
	res, err := s.change(ctx, in.InstanceIds, instancestate.Terminate(), func(ctx context.Context, tx *store.Tx, batch []pendingChange, now time.Time) error {
		nodes, err := tx.ListNodes(ctx)
		if err != nil {
			return err
		}
		exists := map[string]bool{}
		for _, n := range nodes {
			exists[n.ID] = true
		}
		for k := range batch {
			c := &batch[k]
			if !c.t.Changed() {
				continue
			}
			c.inst.DesiredPower = string(nodeapi.PowerTerminated)
			if err := releasePublicIPs(ctx, tx, c.inst.ID); err != nil {
				return err
			}
			if !exists[c.inst.NodeID] {
				c.t.Current = instancestate.Terminated
				c.inst.NodeID = ""
				// No node will report the guest gone: its volumes settle now.
				if err := tx.SettleInstanceVolumes(ctx, c.inst.ID, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.TerminateInstancesResult{TerminatingInstances: res.changes}, nil
}

// StartInstances starts stopped instances: on the node that keeps their
// root disk when it is usable and has room, else on another node of the
// same zone, where the instance gets a fresh root disk from its image.
// If any cannot be placed, none starts (InsufficientInstanceCapacity).
// Instances launched with a public IP get a new one (none free:
// InsufficientAddressCapacity, and none starts).
func (s *Service) StartInstances(ctx context.Context, in *ec2api.StartInstancesRequest) (*ec2api.StartInstancesResult, error) {
	res, err := s.change(ctx, in.InstanceIds, instancestate.Start(), func(ctx context.Context, tx *store.Tx, batch []pendingChange, now time.Time) error {
		if err := startPlaced(ctx, tx, batch, now, s.Cfg.VCPUOvercommit); err != nil {
			return err
		}
		return s.startPublicIPs(ctx, tx, batch)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.StartInstancesResult{StartingInstances: res.changes}, nil
}

func startPlaced(ctx context.Context, tx *store.Tx, batch []pendingChange, now time.Time, vcpuOvercommit float64) error {
	skip := map[string]bool{}
	for _, c := range batch {
		if c.t.Current == instancestate.Pending && c.t.Changed() {
			skip[c.inst.ID] = true
		}
	}
	if len(skip) == 0 {
		return nil
	}
	p, err := loadPlacement(ctx, tx, now, skip, vcpuOvercommit)
	if err != nil {
		return err
	}
	var pinned []scheduler.Request
	for _, c := range batch {
		if skip[c.inst.ID] && p.usable(c.inst.NodeID) {
			pinned = append(pinned, scheduler.Request{InstanceID: c.inst.ID, Zone: c.inst.AvailabilityZone, Need: instanceNeed(c.inst), Pinned: c.inst.NodeID})
		}
	}
	placed := p.place(pinned, 0, nil)
	var moved []scheduler.Request
	for _, c := range batch {
		if _, ok := placed[c.inst.ID]; skip[c.inst.ID] && !ok {
			moved = append(moved, scheduler.Request{InstanceID: c.inst.ID, Zone: c.inst.AvailabilityZone, Need: instanceNeed(c.inst)})
		}
	}
	for id, node := range p.place(moved, len(moved), nil) {
		placed[id] = node
	}
	for k := range batch {
		c := &batch[k]
		if !skip[c.inst.ID] {
			continue
		}
		node, ok := placed[c.inst.ID]
		if !ok {
			return errInsufficientCapacity(c.inst.InstanceType, c.inst.AvailabilityZone)
		}
		c.inst.NodeID, c.inst.DesiredPower, c.inst.ForceStop, c.inst.LaunchTime = node, string(nodeapi.PowerRunning), false, now
	}
	return nil
}
