package ec2

import (
	"context"
	"strconv"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/instancestate"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Status check values, as EC2 names them.
const (
	statusOK            = "ok"
	statusImpaired      = "impaired"
	statusInitializing  = "initializing"
	statusNotApplicable = "not-applicable"
	detailPassed        = "passed"
	detailFailed        = "failed"
)

// statusCheck is one of the two checks of an instance.
type statusCheck struct {
	status, detail string
	since          time.Time // when impaired
}

// instanceHealth is an instance with its two status checks.
type instanceHealth struct {
	instanceView
	system, instance statusCheck
}

// healthOf decides the checks. Only a running instance is checked. The
// system check fails when the node stopped reporting (nodeapi.StaleAfter)
// or is gone; the instance check fails when the guest crashed. Both stay
// initializing until the node reports the guest running.
func healthOf(v instanceView, nodes map[string]store.Node, now time.Time) instanceHealth {
	h := instanceHealth{instanceView: v}
	if v.State != string(instancestate.Running) {
		h.system, h.instance = statusCheck{status: statusNotApplicable}, statusCheck{status: statusNotApplicable}
		return h
	}
	n, ok := nodes[v.NodeID]
	switch {
	case !ok:
		h.system = statusCheck{status: statusImpaired, detail: detailFailed, since: v.ObservedAt}
	case n.LastSeen.IsZero() || now.Sub(n.LastSeen) > nodeapi.StaleAfter:
		h.system = statusCheck{status: statusImpaired, detail: detailFailed, since: n.LastSeen}
	case v.ObservedState == string(nodeapi.ObservedRunning):
		h.system = statusCheck{status: statusOK, detail: detailPassed}
	default:
		h.system = statusCheck{status: statusInitializing, detail: statusInitializing}
	}
	switch v.ObservedState {
	case string(nodeapi.ObservedCrashed):
		h.instance = statusCheck{status: statusImpaired, detail: detailFailed, since: v.ObservedAt}
	case string(nodeapi.ObservedRunning):
		h.instance = statusCheck{status: statusOK, detail: detailPassed}
	default:
		h.instance = statusCheck{status: statusInitializing, detail: statusInitializing}
	}
	return h
}

func apiCheck(c statusCheck) *ec2api.InstanceStatusSummary {
	out := &ec2api.InstanceStatusSummary{Status: str(c.status)}
	if c.detail != "" {
		d := ec2api.InstanceStatusDetails{Name: str("reachability"), Status: str(c.detail)}
		if c.status == statusImpaired && !c.since.IsZero() {
			d.ImpairedSince = timep(c.since)
		}
		out.Details = []ec2api.InstanceStatusDetails{d}
	}
	return out
}

var healthFields = filter.Fields[instanceHealth]{
	"availability-zone":            func(h instanceHealth) []string { return filter.One(h.AvailabilityZone) },
	"instance-state-name":          func(h instanceHealth) []string { return filter.One(h.State) },
	"instance-state-code":          func(h instanceHealth) []string { return filter.One(strconv.Itoa(instancestate.State(h.State).Code())) },
	"instance-status.status":       func(h instanceHealth) []string { return filter.One(h.instance.status) },
	"instance-status.reachability": func(h instanceHealth) []string { return filter.One(h.instance.detail) },
	"system-status.status":         func(h instanceHealth) []string { return filter.One(h.system.status) },
	"system-status.reachability":   func(h instanceHealth) []string { return filter.One(h.system.detail) },
}

// DescribeInstanceStatus reports the status checks of running instances
// (of every visible instance with IncludeAllInstances).
func (s *Service) DescribeInstanceStatus(ctx context.Context, in *ec2api.DescribeInstanceStatusRequest) (*ec2api.DescribeInstanceStatusResult, error) {
	now := time.Now()
	views, d, err := s.selectInstances(ctx, in.InstanceIds, in.MaxResults, now)
	if err != nil {
		return nil, err
	}
	var list []instanceHealth
	for _, v := range views {
		if deref2(in.IncludeAllInstances) || v.State == string(instancestate.Running) {
			list = append(list, healthOf(v, d.nodes, now))
		}
	}
	page, next, err := describe(list, in.Filters, healthFields, nil, func(h instanceHealth) string { return h.ID },
		in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceStatusResult{InstanceStatuses: []ec2api.InstanceStatus{}, NextToken: next}
	for _, h := range page {
		out.InstanceStatuses = append(out.InstanceStatuses, ec2api.InstanceStatus{InstanceId: str(h.ID), AvailabilityZone: str(h.AvailabilityZone),
			InstanceState: apiState(h.State), SystemStatus: apiCheck(h.system), InstanceStatus: apiCheck(h.instance)})
	}
	return out, nil
}

// GetConsoleOutput returns the last 64 KiB of the instance's serial
// console as the node last sent it (base64, as EC2 returns it). Latest is
// accepted: the node sends the console as it changes, so the stored copy
// is already the latest Kumo has.
func (s *Service) GetConsoleOutput(ctx context.Context, in *ec2api.GetConsoleOutputRequest) (*ec2api.GetConsoleOutputResult, error) {
	inst, err := s.instanceOf(ctx, in.InstanceId)
	if err != nil {
		return nil, err
	}
	out := &ec2api.GetConsoleOutputResult{InstanceId: str(inst.ID), Timestamp: timep(time.Now().UTC())}
	if inst.ConsoleOutput != "" {
		out.Output = str(inst.ConsoleOutput)
		if !inst.ConsoleAt.IsZero() && inst.ConsoleAt.Unix() > 0 {
			out.Timestamp = timep(inst.ConsoleAt)
		}
	}
	return out, nil
}

// GetPasswordData answers as EC2 does for an instance whose image sets no
// Windows password: the instance id, a timestamp and empty PasswordData.
func (s *Service) GetPasswordData(ctx context.Context, in *ec2api.GetPasswordDataRequest) (*ec2api.GetPasswordDataResult, error) {
	inst, err := s.instanceOf(ctx, in.InstanceId)
	if err != nil {
		return nil, err
	}
	return &ec2api.GetPasswordDataResult{InstanceId: str(inst.ID), Timestamp: timep(time.Now().UTC()), PasswordData: str("")}, nil
}

// instanceOf reads the caller's instance named by the InstanceId parameter
// of GetConsoleOutput and GetPasswordData: MissingParameter when it is
// empty, the error of accountInstances when it is not the caller's.
func (s *Service) instanceOf(ctx context.Context, instanceID *string) (store.Instance, error) {
	id := deref(instanceID)
	if id == "" {
		return store.Instance{}, apiErr("MissingParameter", "The request must contain the parameter InstanceId")
	}
	var inst store.Instance
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		list, err := accountInstances(ctx, tx, account, []string{id})
		if err == nil {
			inst = list[0]
		}
		return err
	})
	return inst, err
}
