// Package qmptest is a fake QMP server on a unix socket for unit tests of
// code that drives QEMU: it greets, negotiates capabilities, answers
// commands from handlers, records calls and emits events on demand.
package qmptest

import (
	"encoding/json"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
)

// Handler answers one command: a value marshalled as "return", or an error.
type Handler func(args json.RawMessage) (any, *qmp.Error)

// Call is one command the server received after negotiation.
type Call struct {
	Command string
	Args    json.RawMessage
}

// Server is the fake. The zero value is not usable; call New.
type Server struct {
	Path string // the socket to Dial

	ln       net.Listener
	mu       sync.Mutex
	handlers map[string]Handler
	calls    []Call
	conns    map[net.Conn]*sync.Mutex // negotiated clients, with their write locks
	all      map[net.Conn]bool        // every client, negotiated or not
	status   string
	wg       sync.WaitGroup
}

// New listens on a socket in t's temporary directory and stops at cleanup.
// It answers query-status, stop, cont, system_reset, system_powerdown and
// quit the way QEMU does (with their events); Handle adds or overrides.
func New(t testing.TB) *Server {
	t.Helper()
	return NewAt(t, filepath.Join(t.TempDir(), "qmp.sock"))
}

// NewAt is New on a socket path of the caller's choice (a guest's run
// directory, say).
func NewAt(t testing.TB, path string) *Server {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("qmptest: listen: %v", err)
	}
	s := &Server{Path: path, ln: ln, handlers: map[string]Handler{},
		conns: map[net.Conn]*sync.Mutex{}, all: map[net.Conn]bool{}, status: qmp.StatusRunning}
	s.defaults()
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Handle sets the handler of a command.
func (s *Server) Handle(cmd string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[cmd] = h
}

// Calls returns the commands received so far, qmp_capabilities excluded.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// SetStatus sets what query-status answers.
func (s *Server) SetStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Emit sends an event to every negotiated client.
func (s *Server) Emit(name string, data any) {
	now := time.Now()
	ev := map[string]any{"event": name, "timestamp": map[string]int64{
		"seconds": now.Unix(), "microseconds": int64(now.Nanosecond() / 1000)}}
	if data != nil {
		ev["data"] = data
	}
	s.mu.Lock()
	conns := make(map[net.Conn]*sync.Mutex, len(s.conns))
	for c, m := range s.conns {
		conns[c] = m
	}
	s.mu.Unlock()
	for c, m := range conns {
		write(c, m, ev)
	}
}

// DropClients closes every client connection, as QEMU does when it exits.
func (s *Server) DropClients() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.all {
		c.Close()
	}
}

// Close stops listening, drops clients and waits for the server's goroutines.
func (s *Server) Close() {
	s.ln.Close()
	s.DropClients()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go s.serve(c)
	}
}

func write(c net.Conn, mu *sync.Mutex, v any) {
	mu.Lock()
	defer mu.Unlock()
	writeHeld(c, v)
}

// writeHeld is write for a caller that holds the connection's write lock.
func writeHeld(c net.Conn, v any) {
	b, _ := json.Marshal(v)
	c.Write(append(b, '\r', '\n')) // QEMU ends lines with CRLF
}
