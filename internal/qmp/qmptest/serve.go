package qmptest

import (
	"encoding/json"
	"net"
	"sync"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

const greeting = `{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "qmptest"}, "capabilities": ["oob"]}}`

type request struct {
	Execute   string          `json:"execute"`
	Arguments json.RawMessage `json:"arguments"`
	ID        json.RawMessage `json:"id"`
}

// serve runs one client: greeting, negotiation, then commands.
func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	mu := &sync.Mutex{}
	s.mu.Lock()
	s.all[c] = true
	s.mu.Unlock()
	write(c, mu, json.RawMessage(greeting))
	dec := json.NewDecoder(c)
	negotiated := false
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			s.forget(c)
			return
		}
		if !negotiated && req.Execute != "qmp_capabilities" {
			reply(c, mu, req.ID, nil, &qmp.Error{Class: "CommandNotFound",
				Desc: "Expecting capabilities negotiation with 'qmp_capabilities'"})
			continue
		}
		if req.Execute == "qmp_capabilities" && !negotiated {
			negotiated = true
			// Registered before the reply goes out, with the write lock
			// held until it has: an Emit made once the client's Dial
			// returned reaches the client, and never ahead of the reply.
			mu.Lock()
			s.mu.Lock()
			s.conns[c] = mu
			s.mu.Unlock()
			writeHeld(c, replyMessage(req.ID, struct{}{}, nil))
			mu.Unlock()
			continue
		}
		ret, qerr := s.call(req)
		reply(c, mu, req.ID, ret, qerr)
		if req.Execute == "quit" && qerr == nil {
			s.Emit("SHUTDOWN", map[string]any{"guest": false, "reason": "host-qmp-quit"})
			s.DropClients()
		}
	}
}

func (s *Server) forget(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	delete(s.all, c)
}

func (s *Server) call(req request) (any, *qmp.Error) {
	s.mu.Lock()
	s.calls = append(s.calls, Call{Command: req.Execute, Args: req.Arguments})
	h := s.handlers[req.Execute]
	s.mu.Unlock()
	if h == nil {
		return nil, &qmp.Error{Class: "CommandNotFound",
			Desc: "The command " + req.Execute + " has not been found"}
	}
	return h(req.Arguments)
}

func reply(c net.Conn, mu *sync.Mutex, id json.RawMessage, ret any, qerr *qmp.Error) {
	write(c, mu, replyMessage(id, ret, qerr))
}

func replyMessage(id json.RawMessage, ret any, qerr *qmp.Error) map[string]any {
	m := map[string]any{}
	if qerr != nil {
		m["error"] = qerr
	} else {
		m["return"] = ret
	}
	if id != nil {
		m["id"] = id
	}
	return m
}

// defaults installs QEMU-like answers for the run-state commands.
func (s *Server) defaults() {
	ok := func(f func()) Handler {
		return func(json.RawMessage) (any, *qmp.Error) { f(); return struct{}{}, nil }
	}
	s.handlers["query-status"] = func(json.RawMessage) (any, *qmp.Error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return qmp.Status{Status: s.status, Running: s.status == qmp.StatusRunning}, nil
	}
	s.handlers["stop"] = ok(func() { s.SetStatus(qmp.StatusPaused); go s.Emit("STOP", nil) })
	s.handlers["cont"] = ok(func() { s.SetStatus(qmp.StatusRunning); go s.Emit("RESUME", nil) })
	s.handlers["system_reset"] = ok(func() {
		go s.Emit("RESET", map[string]any{"guest": false, "reason": "host-qmp-system-reset"})
	})
	s.handlers["system_powerdown"] = ok(func() { go s.Emit("POWERDOWN", nil) })
	s.handlers["quit"] = ok(func() {})
}
