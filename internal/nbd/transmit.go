package nbd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// request is one transmission-phase request header.
type request struct {
	typ    uint16
	handle uint64
	off    uint64
	length uint32
}

func readRequest(r io.Reader) (request, error) {
	var h [28]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return request{}, err
	}
	if binary.BigEndian.Uint32(h[0:]) != magicRequest {
		return request{}, errors.New("nbd: request: bad magic")
	}
	return request{typ: binary.BigEndian.Uint16(h[6:]), handle: binary.BigEndian.Uint64(h[8:]),
		off: binary.BigEndian.Uint64(h[16:]), length: binary.BigEndian.Uint32(h[24:])}, nil
}

// replier writes simple replies; replies of concurrent reads interleave
// whole, never byte by byte.
type replier struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *replier) reply(handle uint64, errno uint32, data []byte) error {
	b := make([]byte, 16, 16+len(data))
	binary.BigEndian.PutUint32(b[0:], magicSimpleRep)
	binary.BigEndian.PutUint32(b[4:], errno)
	binary.BigEndian.PutUint64(b[8:], handle)
	b = append(b, data...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(b); err != nil {
		return fmt.Errorf("nbd: reply: %w", err)
	}
	return nil
}

// transmit serves requests until the client disconnects; it returns once
// every read it started has been answered (or the connection broke).
func (s *Server) transmit(r io.Reader, c io.WriteCloser, exp Export) error {
	p := &replier{w: c}
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		req, err := readRequest(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("nbd: %w", err)
		}
		switch req.typ {
		case cmdRead:
			if errno := checkRange(req, exp.Size()); errno != 0 {
				err = p.reply(req.handle, errno, nil)
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := s.read(p, exp, req); err != nil {
					c.Close() // the read loop then ends too
				}
			})
		case cmdDisc:
			return nil
		case cmdFlush:
			err = p.reply(req.handle, 0, nil) // nothing is ever written
		case cmdWrite:
			err = refuseWrite(r, p, req)
		default:
			err = p.reply(req.handle, errInval, nil)
		}
		if err != nil {
			return err
		}
	}
}

// checkRange is the error (errno) of a read outside the export, or 0.
func checkRange(req request, size int64) uint32 {
	switch {
	case req.length == 0 || req.length > maxRequestLen:
		return errInval
	case req.off > uint64(size) || uint64(req.length) > uint64(size)-req.off:
		return errInval
	}
	return 0
}

// read answers one read with the export's bytes, or EIO.
func (s *Server) read(p *replier, exp Export, req request) error {
	buf := make([]byte, req.length)
	n, err := exp.ReadAt(buf, int64(req.off))
	if n == len(buf) && errors.Is(err, io.EOF) {
		err = nil
	}
	if err != nil {
		s.log().Warn("nbd read", "offset", req.off, "length", req.length, "err", err)
		return p.reply(req.handle, errIO, nil)
	}
	return p.reply(req.handle, 0, buf)
}

// refuseWrite reads and drops a write's payload (to stay in step with the
// client) and answers EPERM: the export is read-only.
func refuseWrite(r io.Reader, p *replier, req request) error {
	if req.length > maxRequestLen {
		return fmt.Errorf("nbd: write of %d bytes", req.length)
	}
	if _, err := io.CopyN(io.Discard, r, int64(req.length)); err != nil {
		return fmt.Errorf("nbd: write payload: %w", err)
	}
	return p.reply(req.handle, errPerm, nil)
}
