package qmp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Error is a command's failure as QEMU reported it.
type Error struct {
	Class string `json:"class"` // "GenericError", "CommandNotFound", "DeviceNotFound", ...
	Desc  string `json:"desc"`
}

func (e *Error) Error() string { return "qmp: " + e.Class + ": " + e.Desc }

type request struct {
	Execute   string `json:"execute"`
	Arguments any    `json:"arguments,omitempty"`
	ID        string `json:"id"`
}

type response struct {
	Return json.RawMessage
	Err    *Error
}

// message is any line QEMU sends: a reply, an error or an event.
type message struct {
	ID        json.RawMessage `json:"id"`
	Return    json.RawMessage `json:"return"`
	Error     *Error          `json:"error"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Timestamp struct {
		Seconds      int64 `json:"seconds"`
		Microseconds int64 `json:"microseconds"`
	} `json:"timestamp"`
}

// Execute runs one command. args is marshalled as the command's
// "arguments" (nil for none); the "return" value is unmarshalled into reply
// unless reply is nil. A failure QEMU reports is a *Error; ctx ends the
// wait (the command may still run in QEMU).
func (c *Conn) Execute(ctx context.Context, cmd string, args any, reply any) error {
	id, ch, err := c.register()
	if err != nil {
		return fmt.Errorf("qmp: %s: %w", cmd, err)
	}
	defer c.unregister(id)
	if err := c.send(ctx, request{Execute: cmd, Arguments: args, ID: id}); err != nil {
		return fmt.Errorf("qmp: %s: %w", cmd, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("qmp: %s: %w", cmd, c.Err())
		}
		return decodeReply(cmd, r, reply)
	case <-ctx.Done():
		return fmt.Errorf("qmp: %s: %w", cmd, ctx.Err())
	}
}

func decodeReply(cmd string, r response, reply any) error {
	if r.Err != nil {
		return r.Err
	}
	if reply == nil {
		return nil
	}
	if err := json.Unmarshal(r.Return, reply); err != nil {
		return fmt.Errorf("qmp: %s: decode reply: %w", cmd, err)
	}
	return nil
}

func (c *Conn) register() (string, chan response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return "", nil, c.err
	}
	c.nextID++
	id := strconv.FormatUint(c.nextID, 10)
	ch := make(chan response, 1)
	c.pending[id] = ch
	return id, ch, nil
}

func (c *Conn) unregister(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, id)
}

func (c *Conn) send(ctx context.Context, req request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	dl, _ := ctx.Deadline() // zero: no deadline
	c.nc.SetWriteDeadline(dl)
	if _, err := c.nc.Write(append(b, '\n')); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && !dl.IsZero() {
			// The socket's deadline is ctx's: the write ran out of ctx's time
			// (its timer may not have fired yet).
			return fmt.Errorf("write: %w", context.DeadlineExceeded)
		}
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// readLoop dispatches everything QEMU sends until the connection ends.
func (c *Conn) readLoop(dec *json.Decoder) {
	defer close(c.done)
	defer close(c.events)
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				err = ErrClosed
			} else {
				err = fmt.Errorf("%w: read: %v", ErrClosed, err)
			}
			c.fail(err)
			return
		}
		c.dispatch(m)
	}
}

func (c *Conn) dispatch(m message) {
	if m.Event != "" {
		c.deliver(Event{Name: m.Event, Data: m.Data,
			Timestamp: time.Unix(m.Timestamp.Seconds, m.Timestamp.Microseconds*1000)})
		return
	}
	var id string
	if json.Unmarshal(m.ID, &id) != nil {
		return // a reply to nothing we sent (QEMU echoes only our ids)
	}
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- response{Return: m.Return, Err: m.Error}
	}
}

func (c *Conn) deliver(e Event) {
	select {
	case c.events <- e:
	default:
		c.mu.Lock()
		c.dropped++
		c.mu.Unlock()
	}
}

// fail records why the connection ended and releases every waiter.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
}
