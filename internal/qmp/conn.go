// Package qmp is a small client for the QEMU Machine Protocol over a unix
// socket: commands with replies matched by id, asynchronous events on a
// channel, and typed helpers for what the hypervisor driver needs.
//
// A Conn is safe for concurrent use. QEMU serves one monitor client at a
// time, so a second Dial to the same socket waits until the first closes.
package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// ErrClosed is returned by Execute once the connection is closed, by Close
// or because QEMU went away.
var ErrClosed = errors.New("qmp: connection closed")

// eventBuffer is how many events wait for the reader before new ones are
// dropped (the reader of replies must never block on a slow event reader).
const eventBuffer = 64

// Conn is one QMP session.
type Conn struct {
	nc     net.Conn
	events chan Event

	writeMu sync.Mutex // one command on the wire at a time

	mu      sync.Mutex
	nextID  uint64
	pending map[string]chan response
	err     error // why the connection ended; set once

	done    chan struct{} // closed when the reader has stopped
	dropped uint64        // events lost to a full channel (under mu)
}

// Event is an asynchronous QMP event such as SHUTDOWN or DEVICE_DELETED.
type Event struct {
	Name      string          // "SHUTDOWN", "POWERDOWN", "RESET", "STOP", ...
	Data      json.RawMessage // the event's "data" object, if any
	Timestamp time.Time
}

// Greeting is what QEMU says first.
type Greeting struct {
	QMP struct {
		Version struct {
			QEMU struct {
				Major int `json:"major"`
				Minor int `json:"minor"`
				Micro int `json:"micro"`
			} `json:"qemu"`
			Package string `json:"package"`
		} `json:"version"`
		Capabilities []string `json:"capabilities"`
	} `json:"QMP"`
}

// Dial connects to a QMP unix socket, reads the greeting and leaves
// capabilities negotiation mode. ctx bounds the whole handshake.
func Dial(ctx context.Context, path string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("qmp: dial %s: %w", path, err)
	}
	c, err := handshake(ctx, nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("qmp: %s: %w", path, err)
	}
	return c, nil
}

// NewConn runs the handshake on an established connection (a socket pair
// in tests, a socket passed by another process).
func NewConn(ctx context.Context, nc net.Conn) (*Conn, error) {
	return handshake(ctx, nc)
}

func handshake(ctx context.Context, nc net.Conn) (*Conn, error) {
	dec := json.NewDecoder(bufio.NewReader(nc))
	if dl, ok := ctx.Deadline(); ok {
		nc.SetReadDeadline(dl)
	}
	var g Greeting
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("read greeting: %w", err)
	}
	if g.QMP.Capabilities == nil {
		return nil, errors.New("read greeting: not a QMP greeting")
	}
	nc.SetReadDeadline(time.Time{})
	c := &Conn{
		nc:      nc,
		events:  make(chan Event, eventBuffer),
		pending: map[string]chan response{},
		done:    make(chan struct{}),
	}
	go c.readLoop(dec)
	if err := c.Execute(ctx, "qmp_capabilities", nil, nil); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Events delivers asynchronous events in arrival order. It is closed when
// the connection ends. When nobody reads it, events beyond a buffer of 64
// are dropped (see Dropped) rather than stalling command replies.
func (c *Conn) Events() <-chan Event { return c.events }

// Dropped reports how many events were lost because Events was not read.
func (c *Conn) Dropped() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// Done is closed when the connection has ended (Close, or QEMU exited).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended, nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the session; QEMU keeps running. Pending commands fail with
// ErrClosed.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	err := c.nc.Close()
	<-c.done
	return err
}
