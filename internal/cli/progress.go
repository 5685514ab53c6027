package cli

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progressReader reports how much of a known size has been read, on a
// terminal as one line redrawn at most ten times a second.
type progressReader struct {
	r     io.Reader
	out   io.Writer
	label string
	total int64
	done  int64
	tty   bool
	last  time.Time
}

func newProgress(r io.Reader, out io.Writer, label string, total int64) *progressReader {
	tty := false
	if f, ok := out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressReader{r: r, out: out, label: label, total: total, tty: tty}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.tty && (time.Since(p.last) > 100*time.Millisecond || err == io.EOF) {
		p.last = time.Now()
		fmt.Fprintf(p.out, "\r%s: %s", p.label, p.line())
	}
	return n, err
}

func (p *progressReader) line() string {
	pct := 100.0
	if p.total > 0 {
		pct = float64(p.done) * 100 / float64(p.total)
	}
	return fmt.Sprintf("%5.1f%% (%.1f of %.1f MiB)", pct, float64(p.done)/(1<<20), float64(p.total)/(1<<20))
}

// finish ends the progress line.
func (p *progressReader) finish() {
	if p.tty {
		fmt.Fprintln(p.out)
	}
}
