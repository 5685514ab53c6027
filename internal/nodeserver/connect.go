package nodeserver

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// session is one node's open Connect stream.
type session struct {
	nodeID string
	notify chan struct{} // buffered 1: "send Desired soon"
	cancel context.CancelFunc
}

func (ss *session) poke() {
	select {
	case ss.notify <- struct{}{}:
	default:
	}
}

// Notify asks for a prompt Desired to each named node that is connected.
func (s *Server) Notify(nodeIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range nodeIDs {
		if ss := s.sessions[id]; ss != nil {
			ss.poke()
		}
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

// connect serves one node's stream: Desired on connect, on Notify, after a
// report that changed something, and every ReportInterval.
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
	ss.poke()
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
				ss.poke()
			}
			continue
		case <-ss.notify:
		case <-tick.C:
		}
		if err := s.sendDesired(ctx, st, node.ID); err != nil {
			return err
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

func (s *Server) sendDesired(ctx context.Context, st nodeapi.ConnectStream, nodeID string) error {
	d, err := s.Desired(ctx, nodeID)
	if err != nil {
		s.logger.ErrorContext(ctx, "compute desired state", "node", nodeID, "err", err)
		return status.Errorf(codes.Unavailable, "desired state: %v", err)
	}
	return st.Send(d)
}
