// Package nbd serves read-only exports over the Network Block Device
// protocol: the fixed newstyle handshake (NBD_OPT_GO, NBD_OPT_INFO and the
// older NBD_OPT_EXPORT_NAME) and simple replies, which is what QEMU's NBD
// client needs to read a disk image. Reads of one connection are served
// concurrently and answered in the order they complete, so a read that
// waits (for a chunk fetched on demand) does not hold up the others.
// Writes and trims are refused with EPERM; the export says it is read-only.
package nbd

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

// Export is what a server serves: a read-only run of Size bytes.
type Export interface {
	io.ReaderAt
	Size() int64
}

// Server answers NBD clients.
type Server struct {
	// Open resolves an export name for a client; release is called when
	// the client is done with it. An error refuses the name: the client
	// is told the export is unknown.
	Open   func(ctx context.Context, name string) (exp Export, release func(), err error)
	Logger *slog.Logger // nil: discard
}

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Serve accepts clients on l until ctx ends; it then closes l and every
// connection and waits for them.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("nbd: accept: %w", err)
		}
		wg.Go(func() {
			if err := s.ServeConn(ctx, c); err != nil {
				s.log().Warn("nbd client", "err", err)
			}
		})
	}
}

// ServeConn runs one client's session until it disconnects or ctx ends.
func (s *Server) ServeConn(ctx context.Context, c net.Conn) error {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReader(c)
	exp, release, err := s.handshake(ctx, r, c)
	if err != nil || exp == nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer release()
	err = s.transmit(r, c, exp)
	if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// handshake negotiates until the client picks an export (returned) or
// aborts (nil export, nil error).
func (s *Server) handshake(ctx context.Context, r io.Reader, w io.Writer) (Export, func(), error) {
	var hello [18]byte
	binary.BigEndian.PutUint64(hello[0:], magicInit)
	binary.BigEndian.PutUint64(hello[8:], magicOpt)
	binary.BigEndian.PutUint16(hello[16:], flagFixedNewstyle|flagNoZeroes)
	if _, err := w.Write(hello[:]); err != nil {
		return nil, nil, fmt.Errorf("nbd: handshake: %w", err)
	}
	var cf [4]byte
	if _, err := io.ReadFull(r, cf[:]); err != nil {
		return nil, nil, fmt.Errorf("nbd: handshake: %w", err)
	}
	flags := binary.BigEndian.Uint32(cf[:])
	if flags&flagFixedNewstyle == 0 {
		return nil, nil, errors.New("nbd: handshake: client does not speak fixed newstyle")
	}
	for {
		opt, data, err := readOption(r)
		if err != nil {
			return nil, nil, err
		}
		exp, release, done, err := s.option(ctx, w, opt, data, flags&flagNoZeroes != 0)
		if err != nil || done {
			return exp, release, err
		}
	}
}

// readOption reads one option request.
func readOption(r io.Reader) (opt uint32, data []byte, err error) {
	var h [16]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, fmt.Errorf("nbd: option: %w", err)
	}
	if binary.BigEndian.Uint64(h[0:]) != magicOpt {
		return 0, nil, errors.New("nbd: option: bad magic")
	}
	opt, n := binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:])
	if n > maxOptionLen {
		return 0, nil, fmt.Errorf("nbd: option %d: %d bytes of data", opt, n)
	}
	data = make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, fmt.Errorf("nbd: option %d: %w", opt, err)
	}
	return opt, data, nil
}

// option answers one option; done ends the handshake (with an export, or
// none when the client aborted).
func (s *Server) option(ctx context.Context, w io.Writer, opt uint32, data []byte, noZeroes bool) (exp Export, release func(), done bool, err error) {
	switch opt {
	case optExportName:
		exp, release, err := s.Open(ctx, string(data))
		if err != nil {
			// This option has no error reply: the client is disconnected.
			return nil, nil, true, fmt.Errorf("nbd: export %q: %w", data, err)
		}
		if err := writeExportName(w, exp.Size(), noZeroes); err != nil {
			release()
			return nil, nil, true, err
		}
		return exp, release, true, nil
	case optAbort:
		_ = writeOptReply(w, opt, repAck, nil)
		return nil, nil, true, nil
	case optInfo, optGo:
		return s.infoGo(ctx, w, opt, data)
	}
	return nil, nil, false, writeOptReply(w, opt, repErrUnsup, nil)
}

// infoGo answers NBD_OPT_INFO and NBD_OPT_GO: the export's size and flags,
// and for GO the start of transmission.
func (s *Server) infoGo(ctx context.Context, w io.Writer, opt uint32, data []byte) (Export, func(), bool, error) {
	name, ok := parseInfoRequest(data)
	if !ok {
		return nil, nil, false, writeOptReply(w, opt, repErrInval, []byte("malformed request"))
	}
	exp, release, err := s.Open(ctx, name)
	if err != nil {
		return nil, nil, false, writeOptReply(w, opt, repErrUnknwn, []byte(err.Error()))
	}
	var info [12]byte
	binary.BigEndian.PutUint16(info[0:], infoExport)
	binary.BigEndian.PutUint64(info[2:], uint64(exp.Size()))
	binary.BigEndian.PutUint16(info[10:], transmitFlags)
	err = writeOptReply(w, opt, repInfo, info[:])
	if err == nil {
		err = writeOptReply(w, opt, repAck, nil)
	}
	if err != nil || opt == optInfo {
		release()
		return nil, nil, false, err
	}
	return exp, release, true, nil
}

const transmitFlags = transHasFlags | transReadOnly | transSendFlush | transMultiConn

// parseInfoRequest reads the export name of an INFO/GO request (the
// information requests that follow are ignored: only NBD_INFO_EXPORT,
// which is always sent, is supported).
func parseInfoRequest(data []byte) (string, bool) {
	if len(data) < 4 {
		return "", false
	}
	n := binary.BigEndian.Uint32(data)
	if uint64(len(data)) < 4+uint64(n)+2 {
		return "", false
	}
	name := data[4 : 4+n]
	reqs := binary.BigEndian.Uint16(data[4+n:])
	if len(data) != int(4+n+2+2*uint32(reqs)) {
		return "", false
	}
	return string(name), true
}

func writeOptReply(w io.Writer, opt, typ uint32, data []byte) error {
	b := make([]byte, 20+len(data))
	binary.BigEndian.PutUint64(b[0:], magicOptReply)
	binary.BigEndian.PutUint32(b[8:], opt)
	binary.BigEndian.PutUint32(b[12:], typ)
	binary.BigEndian.PutUint32(b[16:], uint32(len(data)))
	copy(b[20:], data)
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("nbd: option reply: %w", err)
	}
	return nil
}

func writeExportName(w io.Writer, size int64, noZeroes bool) error {
	b := make([]byte, 10, 10+124)
	binary.BigEndian.PutUint64(b[0:], uint64(size))
	binary.BigEndian.PutUint16(b[8:], transmitFlags)
	if !noZeroes {
		b = b[:10+124]
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("nbd: export reply: %w", err)
	}
	return nil
}
