package qemuimg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Convert copies src (in srcFormat) to a new image dst in dstFormat,
// reporting progress in percent (0 to 100; the last call is 100 on
// success). It first applies Info's policy and Check to src, because
// qemu-img converts a truncated qcow2 without complaint, filling the
// missing part with zeros. On failure dst is removed.
func (t Tool) Convert(ctx context.Context, src, srcFormat, dst, dstFormat string, progress func(pct float64)) error {
	if srcFormat == "" || dstFormat == "" {
		return fmt.Errorf("qemu-img convert %s: source and destination formats required", src)
	}
	absSrc, err := absPath(src)
	if err != nil {
		return err
	}
	absDst, err := absPath(dst)
	if err != nil {
		return err
	}
	if absSrc == absDst {
		return fmt.Errorf("qemu-img convert %s: source and destination are the same file", src)
	}
	if _, err := t.Info(ctx, absSrc, srcFormat); err != nil {
		return err
	}
	if err := t.Check(ctx, absSrc, srcFormat); err != nil {
		return err
	}
	args := append([]string{"convert", "-p", "-f", srcFormat, "-O", dstFormat}, formatOptions(dstFormat)...)
	if err := t.runProgress(ctx, absSrc, progress, append(args, absSrc, absDst)...); err != nil {
		_ = os.Remove(absDst)
		return err
	}
	return nil
}

// runProgress runs qemu-img, passing each "(12.34/100%)" it prints to
// progress; every call has returned when runProgress does.
func (t Tool) runProgress(ctx context.Context, path string, progress func(float64), args ...string) error {
	var stderr cappedBuffer
	stderr.max = maxErr
	cmd := t.command(ctx, t.argv(false, args...))
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("qemu-img %s: %w", args[0], err)
	}
	if err := cmd.Start(); err != nil {
		return t.fail(ctx, args[0], path, nil, err)
	}
	last := reportProgress(stdout, progress)
	if err := cmd.Wait(); err != nil {
		return t.fail(ctx, args[0], path, stderr.Bytes(), err)
	}
	if progress != nil && last < 100 {
		progress(100)
	}
	return nil
}

// reportProgress reads qemu-img's progress lines until EOF and returns the
// last percentage seen (-1 if none); repeated values are reported once.
func reportProgress(r io.Reader, progress func(float64)) float64 {
	sc := bufio.NewScanner(r)
	sc.Split(splitCRLF)
	last := -1.0
	for sc.Scan() {
		pct, ok := parseProgress(sc.Text())
		if !ok || pct == last {
			continue
		}
		last = pct
		if progress != nil {
			progress(pct)
		}
	}
	_, _ = io.Copy(io.Discard, r) // a line too long for the scanner: drain
	return last
}

// parseProgress reads "    (12.34/100%)".
func parseProgress(line string) (float64, bool) {
	_, rest, ok := strings.Cut(line, "(")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "/100%)")
	if !ok {
		return 0, false
	}
	pct, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || pct < 0 || pct > 100 {
		return 0, false
	}
	return pct, true
}

// splitCRLF splits at '\r' or '\n': qemu-img redraws progress with '\r'.
func splitCRLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
