package rbd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
)

// RBD snapshots are the point-in-time source of an EBS snapshot: one is
// taken of an image in use (librbd asks the QEMU that holds the image's
// exclusive lock to flush and hold writes for the instant of the snapshot,
// so it is crash-consistent and the guest does not pause), its data is
// read at leisure, and the next EBS snapshot reads only what changed
// since (ChangedExtents, ExportDiff). Names are the caller's (e.g. the
// EBS snapshot id).

// Snapshot takes snapshot name of the volume; one that exists is kept.
func (b *Backend) Snapshot(ctx context.Context, id, name string) error {
	spec, err := b.snapSpec(id, name)
	if err != nil {
		return err
	}
	_, err = b.run(ctx, "snap", "create", spec)
	if err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("snapshot volume %s as %s: %w", id, name, err)
	}
	return nil
}

// DeleteSnapshot removes a snapshot; absent is not an error.
func (b *Backend) DeleteSnapshot(ctx context.Context, id, name string) error {
	spec, err := b.snapSpec(id, name)
	if err != nil {
		return err
	}
	if _, err := b.run(ctx, "snap", "rm", spec); err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("delete snapshot %s of volume %s: %w", name, id, err)
	}
	return nil
}

// Snapshots lists the volume's snapshot names, oldest first.
func (b *Backend) Snapshots(ctx context.Context, id string) ([]string, error) {
	spec, err := b.spec(id)
	if err != nil {
		return nil, err
	}
	out, err := b.run(ctx, "snap", "ls", "--format", "json", spec)
	if err != nil {
		return nil, fmt.Errorf("snapshots of volume %s: %w", id, err)
	}
	var snaps []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(out, &snaps); err != nil {
		return nil, fmt.Errorf("snapshots of volume %s: %w", id, err)
	}
	names := make([]string, len(snaps))
	for i, s := range snaps {
		names[i] = s.Name
	}
	return names, nil
}

// Extent is a byte range of a volume. Zero: the range reads as zeros
// (discarded or never written) rather than holding data.
type Extent struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	Zero   bool  `json:"-"`
}

// ChangedExtents are the ranges of snapshot to that differ from snapshot
// from, in offset order; from "" compares with an empty volume (every
// range that holds data). With the image's fast-diff feature (a default)
// this reads only the object map, not the data.
func (b *Backend) ChangedExtents(ctx context.Context, id, from, to string) ([]Extent, error) {
	spec, err := b.snapSpec(id, to)
	if err != nil {
		return nil, err
	}
	args := []string{"diff", "--format", "json"}
	if from != "" {
		if _, err := b.snapSpec(id, from); err != nil {
			return nil, err
		}
		args = append(args, "--from-snap", from)
	}
	out, err := b.run(ctx, append(args, spec)...)
	if err != nil {
		return nil, fmt.Errorf("changes of volume %s from %q to %s: %w", id, from, to, err)
	}
	var rows []struct {
		Offset int64  `json:"offset"`
		Length int64  `json:"length"`
		Exists string `json:"exists"`
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		return nil, fmt.Errorf("changes of volume %s: %w", id, err)
	}
	exts := make([]Extent, len(rows))
	for i, r := range rows {
		exts[i] = Extent{Offset: r.Offset, Length: r.Length, Zero: r.Exists != "true"}
	}
	return exts, nil
}

// OpenSnapshot streams the whole volume as it was at the snapshot, every
// byte (zeros included): what a full copy reads. Close ends the stream
// early if need be; a failure of rbd shows as the error of the last Read
// or of Close.
func (b *Backend) OpenSnapshot(ctx context.Context, id, name string) (io.ReadCloser, error) {
	spec, err := b.snapSpec(id, name)
	if err != nil {
		return nil, err
	}
	return b.stream(ctx, "export", spec, "-")
}

// ExportDiff streams the changes from snapshot from to snapshot to
// ("" : from an empty volume) in rbd's export-diff format; ReadDiff
// decodes it. Unlike OpenSnapshot, it carries only the changed ranges.
func (b *Backend) ExportDiff(ctx context.Context, id, from, to string) (io.ReadCloser, error) {
	spec, err := b.snapSpec(id, to)
	if err != nil {
		return nil, err
	}
	args := []string{"export-diff"}
	if from != "" {
		if _, err := b.snapSpec(id, from); err != nil {
			return nil, err
		}
		args = append(args, "--from-snap", from)
	}
	return b.stream(ctx, append(args, spec, "-")...)
}

// snapSpec is pool/image@snap.
func (b *Backend) snapSpec(id, name string) (string, error) {
	spec, err := b.spec(id)
	if err != nil {
		return "", err
	}
	if name == "" || strings.ContainsAny(name, "/@") || strings.HasPrefix(name, "-") {
		return "", fmt.Errorf("rbd backend: %q is not a snapshot name", name)
	}
	return spec + "@" + name, nil
}

// stream runs rbd with its stdout as the returned reader.
func (b *Backend) stream(ctx context.Context, args ...string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, b.bin, append(b.connArgs(), args...)...)
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("rbd %s: %w", strings.Join(args, " "), err)
	}
	return &cmdReader{b: b, ctx: ctx, args: args, cmd: cmd, out: out, stderr: stderr, cancel: cancel}, nil
}

// cmdReader is a running rbd's stdout. At EOF it waits for rbd, so a
// stream cut short by a failure is an error, not a short read.
type cmdReader struct {
	b      *Backend
	ctx    context.Context
	args   []string
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *bytes.Buffer
	cancel context.CancelFunc
	done   bool
	err    error
}

func (r *cmdReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, r.eof()
	}
	n, err := r.out.Read(p)
	if err == io.EOF {
		r.wait()
		return n, r.eof()
	}
	return n, err
}

func (r *cmdReader) eof() error {
	if r.err != nil {
		return r.err
	}
	return io.EOF
}

func (r *cmdReader) wait() {
	if r.done {
		return
	}
	r.done = true
	if err := r.cmd.Wait(); err != nil {
		r.err = r.b.cliError(r.ctx, r.args, err, r.stderr.String())
	}
	r.cancel()
}

// Close stops rbd if it is still writing and reports how it ended (a
// stream closed before its end is not an error of rbd's).
func (r *cmdReader) Close() error {
	if r.done {
		return r.err
	}
	r.cancel()
	r.out.Close()
	r.done = true
	r.cmd.Wait()
	return nil
}

// ImportDiff applies an export-diff stream (from ExportDiff, or made with
// a DiffWriter) to the volume, which must exist and should not be open
// elsewhere. Write the stream, then Close: Close's error says whether rbd
// applied all of it.
func (b *Backend) ImportDiff(ctx context.Context, id string) (io.WriteCloser, error) {
	spec, err := b.spec(id)
	if err != nil {
		return nil, err
	}
	args := []string{"import-diff", "-", spec}
	cmd := exec.CommandContext(ctx, b.bin, append(b.connArgs(), args...)...)
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("rbd %s: %w", strings.Join(args, " "), err)
	}
	return &cmdWriter{b: b, ctx: ctx, args: args, cmd: cmd, in: in, stderr: stderr}, nil
}

// cmdWriter is a running rbd's stdin.
type cmdWriter struct {
	b      *Backend
	ctx    context.Context
	args   []string
	cmd    *exec.Cmd
	in     io.WriteCloser
	stderr *bytes.Buffer
}

func (w *cmdWriter) Write(p []byte) (int, error) { return w.in.Write(p) }

// Close ends the stream and waits for rbd.
func (w *cmdWriter) Close() error {
	w.in.Close()
	if err := w.cmd.Wait(); err != nil {
		return w.b.cliError(w.ctx, w.args, err, w.stderr.String())
	}
	return nil
}
