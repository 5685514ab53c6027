package qemuimg

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
)

// Info is what Kumo needs to know about a disk image.
type Info struct {
	Format      string // qemu-img's name: raw, qcow2, vmdk, vpc
	VirtualSize int64  // bytes the guest sees
	ActualSize  int64  // bytes allocated on the host
	BackingFile string // set only alongside ErrBackingFile
	Dirty       bool   // qcow2 dirty flag (lazy refcounts not flushed)
}

// infoJSON is the part of `qemu-img info --output=json` Kumo reads.
type infoJSON struct {
	Format              string `json:"format"`
	VirtualSize         int64  `json:"virtual-size"`
	ActualSize          int64  `json:"actual-size"`
	BackingFilename     string `json:"backing-filename"`
	FullBackingFilename string `json:"full-backing-filename"`
	DirtyFlag           bool   `json:"dirty-flag"`
	Encrypted           bool   `json:"encrypted"`
	FormatSpecific      struct {
		Data struct {
			DataFile string `json:"data-file"`
			Corrupt  bool   `json:"corrupt"`
			Extents  []struct {
				Filename string `json:"filename"`
			} `json:"extents"`
		} `json:"data"`
	} `json:"format-specific"`
}

// Info inspects the image at path, for untrusted input. format is qemu-img's
// name; "" means Detect it (qemu-img itself never probes). To check a
// format a user declared, compare it with what Info("") detects: a qcow2
// read as raw is a valid but useless raw disk. Info refuses, with typed
// errors, anything that is not a self-contained raw, qcow2, vmdk or vpc
// image no larger than the Tool's limit. On ErrBackingFile, ErrExternalFile
// and ErrTooLarge the returned Info is filled in, for messages.
//
// Info does not pass -U (force share): an image another process holds open
// for writing is refused rather than read while it changes. Ask QEMU (QMP
// query-block) about a running guest's disks.
func (t Tool) Info(ctx context.Context, path, format string) (Info, error) {
	abs, size, err := statImage(path)
	if err != nil {
		return Info{}, err
	}
	if format == "" {
		if format, err = Detect(abs); err != nil {
			return Info{}, err
		}
	}
	if !importable(format) {
		return Info{}, fmt.Errorf("%s: format %q: %w", path, format, ErrUnsupportedFormat)
	}
	out, err := t.run(ctx, "info", abs, true, "info", "--output=json", "-f", format, abs)
	if err != nil {
		if ctx.Err() != nil {
			return Info{}, err
		}
		return Info{}, fmt.Errorf("%w: %w", ErrNotADiskImage, err)
	}
	var raw infoJSON
	if err := json.Unmarshal(out, &raw); err != nil {
		return Info{}, fmt.Errorf("qemu-img info %s: decode output: %w", abs, err)
	}
	info := Info{Format: raw.Format, VirtualSize: raw.VirtualSize, ActualSize: raw.ActualSize,
		BackingFile: firstNonEmpty(raw.FullBackingFilename, raw.BackingFilename), Dirty: raw.DirtyFlag}
	if err := t.vet(abs, size, raw, info); err != nil {
		return info, err
	}
	return info, nil
}

// statImage resolves path and refuses what cannot be an image at all.
func statImage(path string) (abs string, size int64, err error) {
	abs, err = absPath(path)
	if err != nil {
		return "", 0, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", 0, fmt.Errorf("disk image: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%s: not a regular file: %w", path, ErrNotADiskImage)
	}
	if fi.Size() == 0 {
		return "", 0, fmt.Errorf("%s: empty file: %w", path, ErrNotADiskImage)
	}
	return abs, fi.Size(), nil
}

// vet applies Kumo's policy for untrusted images to qemu-img's answer.
func (t Tool) vet(abs string, size int64, raw infoJSON, info Info) error {
	switch {
	case !importable(raw.Format):
		return fmt.Errorf("%s: format %q: %w", abs, raw.Format, ErrUnsupportedFormat)
	case raw.Encrypted:
		return fmt.Errorf("%s: encrypted image: %w", abs, ErrUnsupportedFormat)
	case info.BackingFile != "":
		return fmt.Errorf("%s: backing file %q: %w", abs, info.BackingFile, ErrBackingFile)
	case raw.FormatSpecific.Data.DataFile != "":
		return fmt.Errorf("%s: data file %q: %w", abs, raw.FormatSpecific.Data.DataFile, ErrExternalFile)
	case raw.FormatSpecific.Data.Corrupt:
		return fmt.Errorf("%s: marked corrupt: %w", abs, ErrCorrupt)
	case raw.VirtualSize <= 0:
		return fmt.Errorf("%s: virtual size %d: %w", abs, raw.VirtualSize, ErrNotADiskImage)
	case raw.VirtualSize > t.maxSize():
		return fmt.Errorf("%s: virtual size %d bytes, limit %d: %w", abs, raw.VirtualSize, t.maxSize(), ErrTooLarge)
	}
	for _, e := range raw.FormatSpecific.Data.Extents {
		if e.Filename != abs {
			return fmt.Errorf("%s: extent file %q: %w", abs, e.Filename, ErrExternalFile)
		}
	}
	if raw.Format == FormatRaw {
		return vetRaw(abs, size)
	}
	return nil
}

// vetRaw refuses files that are plainly not disks: every raw disk is whole
// 512-byte sectors, and no boot sector, partition table or file system
// starts with a sector of printable text.
func vetRaw(abs string, size int64) error {
	if size%512 != 0 {
		return fmt.Errorf("%s: %d bytes is not a whole number of 512-byte sectors: %w", abs, size, ErrNotADiskImage)
	}
	f, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("disk image: %w", err)
	}
	defer f.Close()
	sector := make([]byte, 512)
	if _, err := f.ReadAt(sector, 0); err != nil {
		return fmt.Errorf("disk image %s: read first sector: %w", abs, err)
	}
	if isText(sector) {
		return fmt.Errorf("%s: starts with text: %w", abs, ErrNotADiskImage)
	}
	return nil
}

// isText reports whether b is printable text (ASCII or UTF-8, with tabs
// and line ends). A NUL or other control byte makes it binary.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return len(b) > 0
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
