package imagecache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

var errNotQCOW2 = errors.New("not a qcow2 image")

// qcow2 header fields Kumo reads (all big-endian).
const (
	qcow2Magic        = "QFI\xfb"
	qcow2HeaderLen    = 32 // through the virtual size
	maxBackingNameLen = 1023
)

// overlayInfo is what the header of one of our overlays says.
type overlayInfo struct {
	Backing string // "" if none
	Size    int64  // virtual size, bytes
}

// readOverlay reads a qcow2 file's backing file name and virtual size
// straight from its header, without running qemu-img: Prune reads every
// root disk on the node. A file that is not qcow2 gives errNotQCOW2.
func readOverlay(path string) (overlayInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return overlayInfo{}, fmt.Errorf("overlay %s: %w", path, err)
	}
	defer f.Close()
	var h [qcow2HeaderLen]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || string(h[:4]) != qcow2Magic {
		return overlayInfo{}, fmt.Errorf("overlay %s: %w", path, errNotQCOW2)
	}
	off := binary.BigEndian.Uint64(h[8:16])
	n := binary.BigEndian.Uint32(h[16:20])
	info := overlayInfo{Size: int64(binary.BigEndian.Uint64(h[24:32]))}
	if off == 0 || n == 0 {
		return info, nil
	}
	if n > maxBackingNameLen {
		return info, fmt.Errorf("overlay %s: backing name of %d bytes: %w", path, n, errNotQCOW2)
	}
	name := make([]byte, n)
	if _, err := f.ReadAt(name, int64(off)); err != nil {
		return info, fmt.Errorf("overlay %s: read backing name: %w", path, err)
	}
	info.Backing = string(name)
	return info, nil
}
