package qemuimg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
)

// Exit statuses of `qemu-img check`.
const (
	checkCorrupt     = 2  // corruptions found
	checkLeaks       = 3  // only leaked clusters: harmless for reading
	checkUnsupported = 63 // the format has no check
)

// checkJSON is the part of `qemu-img check --output=json` Kumo reads.
type checkJSON struct {
	Corruptions int `json:"corruptions"`
	CheckErrors int `json:"check-errors"`
}

// Check verifies the metadata of an image for formats that support it
// (qcow2, vmdk); others pass. A truncated or damaged image, or one that
// cannot be checked at all, gives ErrCorrupt. Use Info first to tell
// whether a file is an image of the format.
func (t Tool) Check(ctx context.Context, path, format string) error {
	if format == "" {
		return fmt.Errorf("qemu-img check %s: format required", path)
	}
	abs, err := absPath(path)
	if err != nil {
		return err
	}
	out, err := t.run(ctx, "check", abs, true, "check", "--output=json", "-f", format, abs)
	if err == nil || ctx.Err() != nil {
		return err
	}
	return classifyCheck(abs, out, err)
}

// classifyCheck turns a non-zero exit of check into Kumo's errors.
func classifyCheck(abs string, out []byte, err error) error {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return err
	}
	var res checkJSON
	parsed := json.Unmarshal(out, &res) == nil
	switch code := exitErr.ExitCode(); {
	case code == checkLeaks || code == checkUnsupported:
		return nil
	case code == checkCorrupt:
		return fmt.Errorf("%s: %d corruptions: %w: %w", abs, res.Corruptions, ErrCorrupt, err)
	case parsed && res.CheckErrors > 0:
		return fmt.Errorf("%s: %d check errors: %w: %w", abs, res.CheckErrors, ErrCorrupt, err)
	}
	return fmt.Errorf("%s: check failed: %w: %w", abs, ErrCorrupt, err)
}
