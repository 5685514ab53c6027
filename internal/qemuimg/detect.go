package qemuimg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// Detect names the format of the image at path from its magic bytes,
// without running qemu-img: Kumo never lets qemu-img probe untrusted input,
// since probing opens the file with whichever of qemu's many drivers
// claims it. Known formats Kumo does not import give ErrUnsupportedFormat;
// anything unrecognised is raw. Unlike qemu-img's probe, Detect also finds
// fixed-size VHDs (their only header is a footer at the end).
func Detect(path string) (string, error) {
	abs, size, err := statImage(path)
	if err != nil {
		return "", err
	}
	head, tail, err := readEnds(abs, size)
	if err != nil {
		return "", err
	}
	f, supported := sniff(head, tail)
	if !supported {
		return "", fmt.Errorf("%s: %s image: %w", path, f, ErrUnsupportedFormat)
	}
	return f, nil
}

// readEnds returns the file's first and last 512 bytes (fewer if short).
func readEnds(abs string, size int64) (head, tail []byte, err error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, nil, fmt.Errorf("disk image: %w", err)
	}
	defer f.Close()
	n := min(size, 512)
	head, tail = make([]byte, n), make([]byte, n)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, nil, fmt.Errorf("disk image %s: %w", abs, err)
	}
	if _, err := f.ReadAt(tail, size-n); err != nil {
		return nil, nil, fmt.Errorf("disk image %s: %w", abs, err)
	}
	return head, tail, nil
}

// sniff maps magic bytes to a qemu-img format name, and whether Kumo
// imports it.
func sniff(head, tail []byte) (string, bool) {
	has := func(magic string) bool { return bytes.HasPrefix(head, []byte(magic)) }
	switch {
	case has("QFI\xfb"):
		if len(head) >= 8 && binary.BigEndian.Uint32(head[4:8]) == 1 {
			return "qcow", false
		}
		return FormatQCOW2, true
	case has("KDMV"), has("COWD"), has("# Disk DescriptorFile"):
		return FormatVMDK, true
	case has("conectix"), bytes.HasPrefix(tail, []byte("conectix")):
		return FormatVPC, true
	case has("vhdxfile"):
		return "vhdx", false
	case has("QED\x00"):
		return "qed", false
	case has("LUKS\xba\xbe"):
		return "luks", false
	case has("WithoutFreeSpace"), has("WithouFreSpacExt"):
		return "parallels", false
	case has("Bochs Virtual HD Image"):
		return "bochs", false
	case len(head) >= 0x44 && binary.LittleEndian.Uint32(head[0x40:0x44]) == 0xbeda107f:
		return "vdi", false
	}
	return FormatRaw, true
}
