package rbd

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// rbd's export-diff format (version 1, what `rbd export-diff` writes):
// the banner, then records of a one-byte tag and little-endian fields:
//
//	'f' u32 n, name   the snapshot the diff starts from
//	't' u32 n, name   the snapshot it ends at
//	's' u64 size      the image's size at the end snapshot
//	'w' u64 off, u64 len, data   bytes that changed
//	'z' u64 off, u64 len         a range that now reads as zeros
//	'e'               end
const diffBanner = "rbd diff v1\n"

// Change is one changed range of a diff. For a write, Data reads its
// Length bytes; it is valid until the next call of Next.
type Change struct {
	Extent
	Data io.Reader
}

// DiffReader decodes an export-diff stream (Backend.ExportDiff).
type DiffReader struct {
	r    *bufio.Reader
	data *io.LimitedReader // the unread rest of the last write's data
	// From, To and Size come from the header records, read by
	// NewDiffReader and the first Next (rbd writes them before changes).
	From, To string
	Size     int64
}

// NewDiffReader checks the banner.
func NewDiffReader(r io.Reader) (*DiffReader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	banner := make([]byte, len(diffBanner))
	if _, err := io.ReadFull(br, banner); err != nil {
		return nil, fmt.Errorf("rbd diff: reading the banner: %w", err)
	}
	if string(banner) != diffBanner {
		return nil, fmt.Errorf("rbd diff: banner %q is not %q", banner, diffBanner)
	}
	return &DiffReader{r: br}, nil
}

// Next is the next change; io.EOF after the end record. A stream that
// stops before its end record is io.ErrUnexpectedEOF.
func (d *DiffReader) Next() (Change, error) {
	if d.data != nil && d.data.N > 0 {
		if _, err := io.Copy(io.Discard, d.data); err != nil {
			return Change{}, unexpected(err)
		}
	}
	d.data = nil
	for {
		tag, err := d.r.ReadByte()
		if err != nil {
			return Change{}, unexpected(err)
		}
		switch tag {
		case 'e':
			return Change{}, io.EOF
		case 'f', 't':
			name, err := d.name()
			if err != nil {
				return Change{}, err
			}
			if tag == 'f' {
				d.From = name
			} else {
				d.To = name
			}
		case 's':
			n, err := d.u64()
			if err != nil {
				return Change{}, err
			}
			d.Size = n
		case 'w', 'z':
			return d.change(tag == 'z')
		default:
			return Change{}, fmt.Errorf("rbd diff: unknown record %q", tag)
		}
	}
}

func (d *DiffReader) change(zero bool) (Change, error) {
	off, err := d.u64()
	if err != nil {
		return Change{}, err
	}
	n, err := d.u64()
	if err != nil {
		return Change{}, err
	}
	c := Change{Extent: Extent{Offset: off, Length: n, Zero: zero}}
	if !zero {
		d.data = &io.LimitedReader{R: d.r, N: n}
		c.Data = d.data
	}
	return c, nil
}

func (d *DiffReader) u64() (int64, error) {
	var b [8]byte
	if _, err := io.ReadFull(d.r, b[:]); err != nil {
		return 0, unexpected(err)
	}
	v := binary.LittleEndian.Uint64(b[:])
	if v > 1<<62 {
		return 0, fmt.Errorf("rbd diff: value %d out of range", v)
	}
	return int64(v), nil
}

func (d *DiffReader) name() (string, error) {
	var b [4]byte
	if _, err := io.ReadFull(d.r, b[:]); err != nil {
		return "", unexpected(err)
	}
	n := binary.LittleEndian.Uint32(b[:])
	if n > 4096 {
		return "", fmt.Errorf("rbd diff: snapshot name of %d bytes", n)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(d.r, name); err != nil {
		return "", unexpected(err)
	}
	return string(name), nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("rbd diff: %w", err)
}

// DiffWriter encodes an export-diff stream: how data that is not in
// Ceph yet (a snapshot's chunks from the snapshot store) goes into an
// image with Backend.ImportDiff, without a QEMU.
type DiffWriter struct {
	w   *bufio.Writer
	err error
}

// NewDiffWriter writes the banner and the image's size (an image smaller
// than size is grown to it by the import).
func NewDiffWriter(w io.Writer, size int64) *DiffWriter {
	d := &DiffWriter{w: bufio.NewWriterSize(w, 1<<20)}
	d.put([]byte(diffBanner))
	d.record('s', size)
	return d
}

// Write sets the bytes at off to data.
func (d *DiffWriter) Write(off int64, data []byte) error {
	d.record('w', off, int64(len(data)))
	d.put(data)
	return d.err
}

// Zero makes n bytes at off read as zeros.
func (d *DiffWriter) Zero(off, n int64) error {
	d.record('z', off, n)
	return d.err
}

// Close writes the end record and flushes; it does not close the
// underlying writer.
func (d *DiffWriter) Close() error {
	d.put([]byte{'e'})
	if d.err == nil {
		d.err = d.w.Flush()
	}
	return d.err
}

func (d *DiffWriter) record(tag byte, v ...int64) {
	b := []byte{tag}
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	d.put(b)
}

func (d *DiffWriter) put(b []byte) {
	if d.err == nil {
		_, d.err = d.w.Write(b)
	}
}
