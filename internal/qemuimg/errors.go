package qemuimg

import (
	"errors"
	"fmt"
	"strings"
)

// Errors a caller maps to messages for users (errors.Is). Their text is
// written for the person who uploaded the image.
var (
	// ErrNotADiskImage: the file is not a disk image of the expected format
	// (text, truncated header, empty file, wrong format).
	ErrNotADiskImage = errors.New("the file is not a disk image in a supported format (raw, qcow2, vmdk, vhd)")
	// ErrUnsupportedFormat: a disk image, but in a format or variant Kumo
	// does not import (vdi, dmg, encrypted qcow2, ...).
	ErrUnsupportedFormat = errors.New("the disk image format is not supported (use raw, qcow2, vmdk or vhd)")
	// ErrBackingFile: the image names a backing file; only self-contained
	// images are accepted (flatten it with `qemu-img convert` first).
	ErrBackingFile = errors.New("the disk image refers to a backing file; upload a self-contained image")
	// ErrExternalFile: the image stores data in another file (qcow2
	// data-file, vmdk extents in separate files).
	ErrExternalFile = errors.New("the disk image refers to an external data file; upload a single-file image")
	// ErrTooLarge: the image's virtual size is above the configured limit.
	ErrTooLarge = errors.New("the disk image is larger than allowed")
	// ErrCorrupt: the image's metadata is inconsistent (truncated or damaged).
	ErrCorrupt = errors.New("the disk image is corrupt or truncated")
)

// Error is a failed qemu-img run: the operation, the file and what qemu-img
// said on stderr (trimmed). Err is the underlying cause (an exit status or
// the context's error).
type Error struct {
	Op     string
	Path   string
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	msg := "qemu-img " + e.Op + " " + e.Path
	if e.Stderr != "" {
		return msg + ": " + e.Stderr
	}
	return fmt.Sprintf("%s: %v", msg, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// maxStderrSummary bounds how much of qemu-img's stderr lands in an error:
// a corrupt image can make `check` print thousands of lines.
const maxStderrSummary = 600

// summarize trims stderr to its first lines, without the "qemu-img: " prefix.
func summarize(stderr []byte) string {
	var lines []string
	size := 0
	for _, l := range strings.Split(string(stderr), "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "qemu-img:"))
		if l == "" {
			continue
		}
		if size+len(l) > maxStderrSummary {
			lines = append(lines, "…")
			break
		}
		lines = append(lines, l)
		size += len(l) + 2
	}
	return strings.Join(lines, "; ")
}

// UserMessage is the text to show the person who uploaded an image for an
// error from this package: the refusal's own sentence, without host paths
// or qemu-img's output (log err itself for operators). Errors that are not
// refusals get a generic sentence.
func UserMessage(err error) string {
	for _, e := range []error{ErrBackingFile, ErrExternalFile, ErrTooLarge, ErrCorrupt,
		ErrUnsupportedFormat, ErrNotADiskImage} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "the disk image could not be converted"
}
