// Package nbd is a small client of the Network Block Device protocol
// (fixed newstyle handshake, structured replies, block status) as QEMU's
// NBD server and qemu-nbd speak it: enough to read a point-in-time view of
// a volume, ask which ranges hold data or are dirty in a bitmap, and write
// a new volume. One request is on the wire at a time; a Client is safe for
// concurrent use but does not pipeline.
package nbd

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Meta contexts of NBD_CMD_BLOCK_STATUS.
const (
	// MetaAllocation: flag StateHole (1) marks unallocated ranges, StateZero
	// (2) ranges that read as zeros.
	MetaAllocation = "base:allocation"
	// MetaDirtyPrefix + a bitmap name: flag StateDirty (1) marks ranges
	// written since the bitmap started (QEMU's export "bitmaps").
	MetaDirtyPrefix = "qemu:dirty-bitmap:"
)

// Block status flags.
const (
	StateHole  = 1
	StateZero  = 2
	StateDirty = 1
)

// Protocol constants (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md).
const (
	nbdMagic       = 0x4e42444d41474943 // "NBDMAGIC"
	optMagic       = 0x49484156454f5054 // "IHAVEOPT"
	optReplyMagic  = 0x3e889045565a9
	requestMagic   = 0x25609513
	simpleMagic    = 0x67446698
	structMagic    = 0x668e33ef
	flagFixedNew   = 1 << 0
	flagNoZeroes   = 1 << 1
	optGo          = 7
	optStructured  = 8
	optSetMeta     = 10
	repAck         = 1
	repInfo        = 3
	repMetaContext = 4
	repErrBit      = 1 << 31
	infoExport     = 0
	cmdRead        = 0
	cmdWrite       = 1
	cmdDisc        = 2
	cmdFlush       = 3
	cmdBlockStatus = 7
	cmdFlagReqOne  = 1 << 3
	replyFlagDone  = 1 << 0
	replyNone      = 0
	replyData      = 1
	replyHole      = 2
	replyStatus    = 5
	replyErrBit    = 1 << 15
	transReadOnly  = 1 << 1
	// MaxRequest is the largest read or write this client sends in one
	// request (QEMU's server accepts 32 MiB).
	MaxRequest = 32 << 20
)

// Client is one NBD connection to one export.
type Client struct {
	conn     net.Conn
	r        *bufio.Reader
	size     int64
	readOnly bool
	metas    map[uint32]string // context id -> name
	metaIDs  map[string]uint32

	mu     sync.Mutex
	handle uint64
}

// Dial connects to an NBD server on a unix socket and opens export,
// asking for the meta contexts named (the server must know every one).
func Dial(ctx context.Context, socket, export string, metas ...string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("nbd: dial %s: %w", socket, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c := &Client{conn: conn, r: bufio.NewReaderSize(conn, 1<<20), metas: map[uint32]string{}, metaIDs: map[string]uint32{}}
	if err := c.handshake(export, metas); err != nil {
		conn.Close()
		return nil, fmt.Errorf("nbd: %s export %q: %w", socket, export, err)
	}
	conn.SetDeadline(time.Time{})
	return c, nil
}

// Size is the export's size in bytes.
func (c *Client) Size() int64 { return c.size }

// Close tells the server goodbye and closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	c.handle++
	c.writeRequest(cmdDisc, 0, c.handle, 0, 0) // best effort
	c.mu.Unlock()
	return c.conn.Close()
}

func (c *Client) handshake(export string, metas []string) error {
	var hdr struct {
		Magic, Opt uint64
		Flags      uint16
	}
	if err := binary.Read(c.r, binary.BigEndian, &hdr); err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if hdr.Magic != nbdMagic || hdr.Opt != optMagic || hdr.Flags&flagFixedNew == 0 {
		return errors.New("not a fixed-newstyle NBD server")
	}
	if err := binary.Write(c.conn, binary.BigEndian, uint32(flagFixedNew|hdr.Flags&flagNoZeroes)); err != nil {
		return err
	}
	if err := c.option(optStructured, nil); err != nil {
		return err
	}
	if _, err := c.optReplies(optStructured, nil); err != nil {
		return fmt.Errorf("structured replies: %w", err)
	}
	if len(metas) > 0 {
		if err := c.setMeta(export, metas); err != nil {
			return err
		}
	}
	return c.goExport(export)
}

func (c *Client) setMeta(export string, metas []string) error {
	data := appendString(nil, export)
	data = binary.BigEndian.AppendUint32(data, uint32(len(metas)))
	for _, m := range metas {
		data = appendString(data, m)
	}
	if err := c.option(optSetMeta, data); err != nil {
		return err
	}
	_, err := c.optReplies(optSetMeta, func(typ uint32, p []byte) error {
		if typ == repMetaContext && len(p) >= 4 {
			id, name := binary.BigEndian.Uint32(p), string(p[4:])
			c.metas[id], c.metaIDs[name] = name, id
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("meta contexts %q: %w", metas, err)
	}
	for _, m := range metas {
		if _, ok := c.metaIDs[m]; !ok {
			return fmt.Errorf("server does not offer meta context %q", m)
		}
	}
	return nil
}

func (c *Client) goExport(export string) error {
	data := appendString(nil, export)
	data = binary.BigEndian.AppendUint16(data, 0) // no extra info requests
	if err := c.option(optGo, data); err != nil {
		return err
	}
	gotSize := false
	_, err := c.optReplies(optGo, func(typ uint32, p []byte) error {
		if typ == repInfo && len(p) >= 12 && binary.BigEndian.Uint16(p) == infoExport {
			c.size = int64(binary.BigEndian.Uint64(p[2:]))
			c.readOnly = binary.BigEndian.Uint16(p[10:])&transReadOnly != 0
			gotSize = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("open export: %w", err)
	}
	if !gotSize {
		return errors.New("open export: server sent no size")
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func (c *Client) option(opt uint32, data []byte) error {
	b := binary.BigEndian.AppendUint64(nil, optMagic)
	b = binary.BigEndian.AppendUint32(b, opt)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	if _, err := c.conn.Write(append(b, data...)); err != nil {
		return fmt.Errorf("send option %d: %w", opt, err)
	}
	return nil
}

// optReplies reads an option's replies up to its ACK, handing the others
// to each; an error reply fails.
func (c *Client) optReplies(opt uint32, each func(typ uint32, payload []byte) error) (int, error) {
	n := 0
	for {
		var h struct {
			Magic     uint64
			Opt, Type uint32
			Len       uint32
		}
		if err := binary.Read(c.r, binary.BigEndian, &h); err != nil {
			return n, fmt.Errorf("read option reply: %w", err)
		}
		if h.Magic != optReplyMagic || h.Opt != opt || h.Len > 1<<20 {
			return n, fmt.Errorf("bad option reply %+v", h)
		}
		p := make([]byte, h.Len)
		if _, err := io.ReadFull(c.r, p); err != nil {
			return n, fmt.Errorf("read option reply: %w", err)
		}
		switch {
		case h.Type == repAck:
			return n, nil
		case h.Type&repErrBit != 0:
			return n, fmt.Errorf("server refused option %d (error %#x): %s", opt, h.Type, p)
		}
		n++
		if each != nil {
			if err := each(h.Type, p); err != nil {
				return n, err
			}
		}
	}
}

func (c *Client) writeRequest(cmd uint16, flags uint16, handle uint64, off int64, length uint32) error {
	b := make([]byte, 0, 28)
	b = binary.BigEndian.AppendUint32(b, requestMagic)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, cmd)
	b = binary.BigEndian.AppendUint64(b, handle)
	b = binary.BigEndian.AppendUint64(b, uint64(off))
	b = binary.BigEndian.AppendUint32(b, length)
	_, err := c.conn.Write(b)
	return err
}

// Error is an error the server returned for a request (an errno value).
type Error struct {
	Errno   uint32
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("nbd: server error %d %s", e.Errno, e.Message) }

// do sends one request and reads its reply chunks, handing each structured
// chunk's type and payload reader to chunk.
func (c *Client) do(ctx context.Context, cmd uint16, flags uint16, off int64, length uint32, payload []byte,
	chunk func(typ uint16, r io.Reader, n uint32) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("nbd: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
		defer c.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.handle++
	h := c.handle
	if err := c.writeRequest(cmd, flags, h, off, length); err != nil {
		return c.fail(ctx, err)
	}
	if payload != nil {
		if _, err := c.conn.Write(payload); err != nil {
			return c.fail(ctx, err)
		}
	}
	if err := c.readReplies(h, chunk); err != nil {
		return c.fail(ctx, err)
	}
	return nil
}

// fail explains an I/O error: ctx's when it was ctx that ended the wait.
// The connection is unusable after a failed exchange.
func (c *Client) fail(ctx context.Context, err error) error {
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	c.conn.Close()
	if ctx.Err() != nil {
		return fmt.Errorf("nbd: %w", ctx.Err())
	}
	return fmt.Errorf("nbd: %w", err)
}

func (c *Client) readReplies(handle uint64, chunk func(typ uint16, r io.Reader, n uint32) error) error {
	var serr error
	for {
		var magic uint32
		if err := binary.Read(c.r, binary.BigEndian, &magic); err != nil {
			return err
		}
		switch magic {
		case simpleMagic:
			var h struct {
				Errno  uint32
				Handle uint64
			}
			if err := binary.Read(c.r, binary.BigEndian, &h); err != nil {
				return err
			}
			if h.Handle != handle {
				return fmt.Errorf("reply for handle %d, want %d", h.Handle, handle)
			}
			if h.Errno != 0 {
				return &Error{Errno: h.Errno}
			}
			return serr
		case structMagic:
			var h struct {
				Flags, Type uint16
				Handle      uint64
				Len         uint32
			}
			if err := binary.Read(c.r, binary.BigEndian, &h); err != nil {
				return err
			}
			if h.Handle != handle {
				return fmt.Errorf("reply for handle %d, want %d", h.Handle, handle)
			}
			lr := &io.LimitedReader{R: c.r, N: int64(h.Len)}
			var err error
			if h.Type&replyErrBit != 0 {
				err = readError(lr)
			} else if h.Type != replyNone && chunk != nil {
				err = chunk(h.Type, lr, h.Len)
			}
			if _, derr := io.Copy(io.Discard, lr); derr != nil {
				return derr
			}
			if err != nil && serr == nil {
				serr = err
			}
			if h.Flags&replyFlagDone != 0 {
				return serr
			}
		default:
			return fmt.Errorf("bad reply magic %#x", magic)
		}
	}
}

func readError(r io.Reader) error {
	var h struct {
		Errno  uint32
		MsgLen uint16
	}
	if err := binary.Read(r, binary.BigEndian, &h); err != nil {
		return err
	}
	msg := make([]byte, h.MsgLen)
	io.ReadFull(r, msg)
	return &Error{Errno: h.Errno, Message: string(msg)}
}

// ReadAt reads len(p) bytes at off (split into requests of MaxRequest).
func (c *Client) ReadAt(ctx context.Context, p []byte, off int64) error {
	for len(p) > 0 {
		n := min(len(p), MaxRequest)
		if err := c.read(ctx, p[:n], off); err != nil {
			return fmt.Errorf("nbd: read %d bytes at %d: %w", n, off, err)
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}

func (c *Client) read(ctx context.Context, p []byte, off int64) error {
	return c.do(ctx, cmdRead, 0, off, uint32(len(p)), nil, func(typ uint16, r io.Reader, n uint32) error {
		var at uint64
		if err := binary.Read(r, binary.BigEndian, &at); err != nil {
			return err
		}
		rel := int64(at) - off
		switch typ {
		case replyData:
			dn := int64(n) - 8
			if rel < 0 || rel+dn > int64(len(p)) {
				return fmt.Errorf("data chunk at %d+%d outside the request", at, dn)
			}
			_, err := io.ReadFull(r, p[rel:rel+dn])
			return err
		case replyHole:
			var hn uint32
			if err := binary.Read(r, binary.BigEndian, &hn); err != nil {
				return err
			}
			if rel < 0 || rel+int64(hn) > int64(len(p)) {
				return fmt.Errorf("hole chunk at %d+%d outside the request", at, hn)
			}
			clear(p[rel : rel+int64(hn)])
			return nil
		}
		return fmt.Errorf("unexpected reply chunk type %d to a read", typ)
	})
}

// WriteAt writes p at off.
func (c *Client) WriteAt(ctx context.Context, p []byte, off int64) error {
	if c.readOnly {
		return errors.New("nbd: export is read-only")
	}
	for len(p) > 0 {
		n := min(len(p), MaxRequest)
		if err := c.do(ctx, cmdWrite, 0, off, uint32(n), p[:n], nil); err != nil {
			return fmt.Errorf("nbd: write %d bytes at %d: %w", n, off, err)
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}

// Flush makes every write so far durable.
func (c *Client) Flush(ctx context.Context) error {
	if err := c.do(ctx, cmdFlush, 0, 0, 0, nil, nil); err != nil {
		return fmt.Errorf("nbd: flush: %w", err)
	}
	return nil
}

// Extent is a range of an export with one status.
type Extent struct {
	Offset, Length int64
	Flags          uint32
}

// BlockStatus lists the extents of [off, off+length) in meta context meta
// (asked for at Dial), in order and contiguous, covering the whole range.
func (c *Client) BlockStatus(ctx context.Context, meta string, off, length int64) ([]Extent, error) {
	id, ok := c.metaIDs[meta]
	if !ok {
		return nil, fmt.Errorf("nbd: meta context %q was not negotiated", meta)
	}
	var out []Extent
	end := off + length
	for off < end {
		n := min(end-off, 1<<30) // the request's length is 32 bits
		got, err := c.blockStatus(ctx, id, off, uint32(n))
		if err != nil {
			return nil, fmt.Errorf("nbd: block status %s at %d: %w", meta, off, err)
		}
		if len(got) == 0 {
			return nil, fmt.Errorf("nbd: block status %s at %d: no extents", meta, off)
		}
		for _, e := range got {
			e.Length = min(e.Length, end-off)
			if e.Length <= 0 {
				break
			}
			e.Offset = off
			out = append(out, e)
			off += e.Length
		}
	}
	return out, nil
}

func (c *Client) blockStatus(ctx context.Context, id uint32, off int64, length uint32) ([]Extent, error) {
	var out []Extent
	err := c.do(ctx, cmdBlockStatus, 0, off, length, nil, func(typ uint16, r io.Reader, n uint32) error {
		if typ != replyStatus {
			return fmt.Errorf("unexpected reply chunk type %d to block status", typ)
		}
		var ctxID uint32
		if err := binary.Read(r, binary.BigEndian, &ctxID); err != nil {
			return err
		}
		descs := make([]uint32, (n-4)/4)
		if err := binary.Read(r, binary.BigEndian, descs); err != nil {
			return err
		}
		if ctxID != id {
			return nil
		}
		for i := 0; i+1 < len(descs); i += 2 {
			out = append(out, Extent{Length: int64(descs[i]), Flags: descs[i+1]})
		}
		return nil
	})
	return out, err
}
