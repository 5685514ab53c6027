package volsnap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/volsnap/nbd"
)

// File is a detached qcow2 volume file: nothing may write it while Take
// runs (qemu-nbd takes the file's lock, so a QEMU holding it makes Take
// fail rather than read a moving volume). Take reads it through qemu-nbd
// (read-only, on a socket in TempDir) with the dirty bitmaps qemu-img
// keeps in the file.
type File struct {
	Path    string
	TempDir string
}

func (f *File) describe() string { return "volume file " + f.Path }

func (f *File) open(ctx context.Context, id string, parent *snapshot.Manifest) (*view, error) {
	if f.Path == "" || f.TempDir == "" {
		return nil, errors.New("file source needs Path and TempDir")
	}
	if err := reconcileBitmaps(ctx, f, id, parent, false); err != nil {
		return nil, err
	}
	bms, err := f.listBitmaps(ctx)
	if err != nil {
		return nil, err
	}
	parentBM := parentBitmap(bms, parent)
	// The file does not change until it is attached again: the new
	// bitmap may start before the read, and the parent's needs no freeze.
	if err := f.bitmapCmd(ctx, "--add", bitmapName(id)); err != nil {
		return nil, err
	}
	metas := []string{nbd.MetaAllocation}
	if parentBM != "" {
		metas = append(metas, nbd.MetaDirtyPrefix+parentBM)
	}
	srv, c, err := startQemuNBD(ctx, f.TempDir, f.Path, true, parentBM, metas...)
	if err != nil {
		return nil, err
	}
	v := &view{nbd: c, size: c.Size(), close: func() { c.Close(); srv.kill() }}
	if parentBM != "" {
		v.dirtyMeta = nbd.MetaDirtyPrefix + parentBM
	}
	return v, nil
}

func (f *File) finish(ctx context.Context, id string, parent *snapshot.Manifest, ok bool) error {
	stopLeftoverNBD(f.TempDir, f.Path)
	return reconcileBitmaps(ctx, f, id, parent, ok)
}

// bitmapCmd runs qemu-img bitmap op... on the file.
func (f *File) bitmapCmd(ctx context.Context, args ...string) error {
	name := args[len(args)-1]
	argv := append([]string{"bitmap"}, args[:len(args)-1]...)
	argv = append(argv, "-f", "qcow2", f.Path, name)
	out, err := exec.CommandContext(ctx, "qemu-img", argv...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (f *File) listBitmaps(ctx context.Context) ([]bitmapInfo, error) {
	out, err := exec.CommandContext(ctx, "qemu-img", "info", "--output=json", "-f", "qcow2", f.Path).Output()
	if err != nil {
		return nil, fmt.Errorf("qemu-img info %s: %w", f.Path, err)
	}
	var info struct {
		Specific struct {
			Data struct {
				Bitmaps []struct {
					Name  string   `json:"name"`
					Flags []string `json:"flags"`
				} `json:"bitmaps"`
			} `json:"data"`
		} `json:"format-specific"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("qemu-img info %s: %w", f.Path, err)
	}
	var bms []bitmapInfo
	for _, b := range info.Specific.Data.Bitmaps {
		bms = append(bms, bitmapInfo{Name: b.Name, Recording: slices.Contains(b.Flags, "auto"),
			Inconsistent: slices.Contains(b.Flags, "in-use")})
	}
	return bms, nil
}

func (f *File) mergeBitmaps(ctx context.Context, dst string, srcs []string) error {
	for _, src := range srcs {
		if err := f.bitmapCmd(ctx, "--merge", src, dst); err != nil {
			return err
		}
	}
	return f.bitmapCmd(ctx, "--enable", dst)
}

func (f *File) removeBitmaps(ctx context.Context, names []string) error {
	var errs []error
	for _, n := range names {
		errs = append(errs, f.bitmapCmd(ctx, "--remove", n))
	}
	return errors.Join(errs...)
}
