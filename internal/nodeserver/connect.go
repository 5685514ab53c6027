package nodeserver

import (
	"context"
	"errors"
	"io"
	"reflect"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// session is one node's open Connect stream.
type session struct {
	nodeID string
	notify chan struct{} // buffered 1: "recompute Desired soon"
	// force: named in a Notify, so the next recomputation is sent even
	// when it equals the last Desired sent.
	force  atomic.Bool
	cancel context.CancelFunc
}

func (ss *session) poke() {
	select {
	case ss.notify <- struct{}{}:
	default:
	}
}

// Notify makes every connected node recompute its desired state promptly.
// The nodes named get a Desired in any case; the others only when theirs
// differs from the last one sent. A change to one node's instances moves
// the VPC peers and security group members other nodes see, and a
// security group change concerns every node hosting its members or those
// of groups referencing it, so recomputing all is the simple and complete
// answer (one query set per connected node). Notify() with no ids is how
// a security group change is announced.
func (s *Server) Notify(nodeIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range nodeIDs {
		if ss := s.sessions[id]; ss != nil {
			ss.force.Store(true)
		}
	}
	for _, ss := range s.sessions {
		ss.poke()
	}
}

// attach registers a stream, ending the node's previous one.
func (s *Server) attach(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.sessions[ss.nodeID]; old != nil {
		old.cancel()
	}
	s.sessions[ss.nodeID] = ss
}

func (s *Server) detach(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[ss.nodeID] == ss {
		delete(s.sessions, ss.nodeID)
	}
}

// dropSession ends a node's stream (removed or re-joined node).
func (s *Server) dropSession(nodeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[nodeID]; ss != nil {
		ss.cancel()
		delete(s.sessions, nodeID)
	}
}

// connect serves one node's stream: Desired on connect, every
// ReportInterval, and when a Notify or a report (its own or another
// node's) that changed something changes it.
func (s *Server) connect(st nodeapi.ConnectStream) error {
	node, err := s.authenticate(st.Context())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	ss := &session{nodeID: node.ID, notify: make(chan struct{}, 1), cancel: cancel}
	s.attach(ss)
	defer s.detach(ss)
	s.logger.InfoContext(ctx, "node connected", "node", node.ID, "name", node.Name)
	reports := make(chan *nodeapi.Report)
	recvErr := make(chan error, 1)
	go receive(ctx, st, reports, recvErr)
	ss.force.Store(true)
	ss.poke()
	var last *nodeapi.Desired
	tick := time.NewTicker(nodeapi.ReportInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.logger.InfoContext(st.Context(), "node stream replaced or closed", "node", node.ID)
			return status.Error(codes.Aborted, "stream closed by the server (replaced by a newer one, or the node was removed)")
		case err := <-recvErr:
			s.logger.InfoContext(ctx, "node disconnected", "node", node.ID, "err", err)
			return nil
		case r := <-reports:
			changed, err := s.applyReport(ctx, node.ID, r)
			if err != nil {
				s.logger.ErrorContext(ctx, "apply node report", "node", node.ID, "err", err)
			}
			if changed {
				s.Notify(node.ID) // other nodes' peers and group members may move too
			}
			continue
		case <-ss.notify:
			if err := s.sendDesired(ctx, st, node.ID, &last, ss.force.Swap(false)); err != nil {
				return err
			}
		case <-tick.C:
			if err := s.sendDesired(ctx, st, node.ID, &last, true); err != nil {
				return err
			}
		}
	}
}

func receive(ctx context.Context, st nodeapi.ConnectStream, out chan<- *nodeapi.Report, errc chan<- error) {
	for {
		r, err := st.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			errc <- err
			return
		}
		select {
		case out <- r:
		case <-ctx.Done():
			return
		}
	}
}

// sendDesired computes the node's Desired and sends it when always is set
// or it differs from *last, which it then becomes.
func (s *Server) sendDesired(ctx context.Context, st nodeapi.ConnectStream, nodeID string, last **nodeapi.Desired, always bool) error {
	d, err := s.Desired(ctx, nodeID)
	if err != nil {
		s.logger.ErrorContext(ctx, "compute desired state", "node", nodeID, "err", err)
		return status.Errorf(codes.Unavailable, "desired state: %v", err)
	}
	d.PublicPool = s.pool
	if !always && reflect.DeepEqual(d, *last) {
		return nil
	}
	*last = d
	return st.Send(d)
}
