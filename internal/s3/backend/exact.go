package backend

import (
	"errors"
	"io"
)

// ExactReader yields exactly size bytes of r. Before it hands out the
// last of them it makes sure r has nothing more, so a consumer that stops
// reading at size (as an HTTP client sending Content-Length bytes does)
// still sees ErrShortBody for a body that is too long, and any error r
// returns at its end.
// Err reports why reading stopped early (nil after a clean end): callers
// whose transport hides the reader's error (an SDK retrying, say) look
// here.
func ExactReader(r io.Reader, size int64) *Exact {
	return &Exact{r: r, left: size}
}

// Exact is the reader ExactReader returns.
type Exact struct {
	r    io.Reader
	left int64
	err  error
}

// Err returns the error that ended reading, or nil if reading has not
// ended or ended cleanly.
func (e *Exact) Err() error {
	if errors.Is(e.err, io.EOF) {
		return nil
	}
	return e.err
}

func (e *Exact) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		if e.err = expectEOF(e.r); e.err == nil {
			e.err = io.EOF
		}
		return 0, e.err
	}
	n, err := e.r.Read(p[:min(int64(len(p)), e.left)])
	e.left -= int64(n)
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		e.err = err
		return 0, err
	case e.left == 0:
		if e.err = expectEOF(e.r); e.err != nil {
			return 0, e.err
		}
		e.err = io.EOF
		return n, io.EOF
	case errors.Is(err, io.EOF):
		e.err = ErrShortBody
		return 0, e.err
	}
	return n, nil
}

// expectEOF reads r once more: it must be at its end.
func expectEOF(r io.Reader) error {
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		switch {
		case n > 0:
			return ErrShortBody
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
}
