package qemuimg

import (
	"fmt"
	"strings"
)

// qemu-img's names for the formats Kumo imports.
const (
	FormatRaw   = "raw"
	FormatQCOW2 = "qcow2"
	FormatVMDK  = "vmdk"
	FormatVPC   = "vpc" // VHD
)

// importable reports whether qemu-img format f may be read from untrusted
// input. Everything else (vdi, dmg, luks, vvfat, ...) is refused: each
// driver is attack surface.
func importable(f string) bool {
	switch f {
	case FormatRaw, FormatQCOW2, FormatVMDK, FormatVPC:
		return true
	}
	return false
}

// ParseImportFormat turns a format as EC2's ImportImage names it (RAW,
// qcow2, VMDK, VHD; any case) into qemu-img's name.
func ParseImportFormat(s string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(s)); f {
	case "vhd", FormatVPC:
		return FormatVPC, nil
	case FormatRaw, FormatQCOW2, FormatVMDK:
		return f, nil
	}
	return "", fmt.Errorf("format %q: %w", s, ErrUnsupportedFormat)
}

// ImportFormatName is the user-facing name of qemu-img format f ("vpc" is
// shown as "vhd").
func ImportFormatName(f string) string {
	if f == FormatVPC {
		return "vhd"
	}
	return f
}

// formatOptions are the -o options Kumo always wants when writing format f:
// VHD sizes are otherwise rounded to a disk geometry, and the guest would
// see a different size than asked for.
func formatOptions(f string) []string {
	if f == FormatVPC {
		return []string{"-o", "force_size=on"}
	}
	return nil
}
