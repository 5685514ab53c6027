package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"time"

	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// BootFiles keeps kernel and ramdisk files in the object store.
type BootFiles interface {
	Put(ctx context.Context, key string, r io.Reader, size int64) error
}

// MaxBootFileBytes bounds an uploaded kernel or ramdisk.
const MaxBootFileBytes = 512 << 20

// RegisteredImage answers image registration.
type RegisteredImage struct {
	ImageId string `json:"ImageId"`
	Name    string `json:"Name"`
	Created bool   `json:"Created"` // false: an image of that name was already registered
}

// MachineImageRequest registers a public machine image that boots a kernel and ramdisk.
type MachineImageRequest struct {
	Name        string `json:"Name"`
	Description string `json:"Description"`
	KernelId    string `json:"KernelId"`
	RamdiskId   string `json:"RamdiskId"`
}

var bootName = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$`)

// Registry registers the operator's public images: kernels, ramdisks and
// machine images owned by the system account. The admin API and `kumo dev`
// (for the demo image) use it.
type Registry struct {
	DB       *store.DB
	Identity *identity.Service
	Files    BootFiles
	Logger   *slog.Logger
}

// registerBootFile stores an uploaded kernel or ramdisk as a public aki-/ari- image of the system account.
func (s *Server) registerBootFile(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if !bootName.MatchString(name) {
			writeError(w, http.StatusBadRequest, "InvalidParameterValue", "name must be 3-128 letters, digits or ()[] ./-'@_")
			return
		}
		if r.ContentLength <= 0 || r.ContentLength > MaxBootFileBytes {
			writeError(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("send the file with a Content-Length between 1 byte and %d MiB", MaxBootFileBytes>>20))
			return
		}
		if s.Images == nil || s.Images.Files == nil {
			writeError(w, http.StatusServiceUnavailable, "Unsupported", "this server has no object store for boot files")
			return
		}
		img, err := s.Images.RegisterBootFile(r.Context(), kind, name, http.MaxBytesReader(w, r.Body, r.ContentLength), r.ContentLength)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, img)
	}
}

// RegisterBootFile stores a kernel or ramdisk of size bytes as a public
// aki-/ari- image. An image of that name already registered is returned as it is.
func (g *Registry) RegisterBootFile(ctx context.Context, kind, name string, r io.Reader, size int64) (RegisteredImage, error) {
	prefix := map[string]string{"kernel": "aki", "ramdisk": "ari"}[kind]
	if prefix == "" {
		return RegisteredImage{}, fmt.Errorf("boot file kind %q: want kernel or ramdisk", kind)
	}
	sys, err := g.Identity.SystemAccount(ctx)
	if err != nil {
		return RegisteredImage{}, err
	}
	if existing, ok, err := g.findSystemImage(ctx, sys.ID, name); err != nil || ok {
		_, _ = io.Copy(io.Discard, r)
		return RegisteredImage{ImageId: existing, Name: name}, err
	}
	id := ids.Resource(prefix)
	key := path.Join("boot", id)
	if err := g.Files.Put(ctx, key, r, size); err != nil {
		return RegisteredImage{}, fmt.Errorf("store %s %s: %w", kind, name, err)
	}
	im := store.Image{ID: id, AccountID: sys.ID, Name: name, ImageType: kind, State: "available", Architecture: "x86_64",
		RootDeviceType: "instance-store", VirtualizationType: "hvm", Location: key, SizeBytes: size, Public: true,
		CreatedAt: time.Now().UTC()}
	if err := g.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.InsertImage(ctx, im) }); err != nil {
		return RegisteredImage{}, err
	}
	g.Logger.InfoContext(ctx, "boot file registered", "image", id, "kind", kind, "name", name, "bytes", size)
	return RegisteredImage{ImageId: id, Name: name, Created: true}, nil
}

// findSystemImage makes registration idempotent by name.
func (g *Registry) findSystemImage(ctx context.Context, account, name string) (string, bool, error) {
	var found string
	err := g.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		list, err := tx.VisibleImages(ctx, account)
		for _, im := range list {
			if im.AccountID == account && im.Name == name {
				found = im.ID
			}
		}
		return err
	})
	return found, found != "", err
}

// registerMachine makes a public AMI booting a registered kernel and ramdisk.
func (s *Server) registerMachine(w http.ResponseWriter, r *http.Request) {
	var req MachineImageRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil || !bootName.MatchString(req.Name) || req.KernelId == "" {
		writeError(w, http.StatusBadRequest, "InvalidParameterValue", `body must be JSON like {"Name":"kumo-demo","KernelId":"aki-…","RamdiskId":"ari-…"}`)
		return
	}
	if s.Images == nil {
		writeError(w, http.StatusServiceUnavailable, "Unsupported", "this server does not register images")
		return
	}
	img, err := s.Images.RegisterMachine(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, img)
}

// RegisterMachine registers a public machine image booting a registered
// kernel and ramdisk; an image of that name already registered is returned as it is.
func (g *Registry) RegisterMachine(ctx context.Context, req MachineImageRequest) (RegisteredImage, error) {
	sys, err := g.Identity.SystemAccount(ctx)
	if err != nil {
		return RegisteredImage{}, err
	}
	if existing, ok, err := g.findSystemImage(ctx, sys.ID, req.Name); err != nil || ok {
		return RegisteredImage{ImageId: existing, Name: req.Name}, err
	}
	im := store.Image{ID: ids.Resource("ami"), AccountID: sys.ID, Name: req.Name, Description: req.Description, ImageType: "machine",
		State: "available", Architecture: "x86_64", RootDeviceType: "instance-store", VirtualizationType: "hvm",
		KernelID: req.KernelId, RamdiskID: req.RamdiskId, Public: true, CreatedAt: time.Now().UTC()}
	err = g.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		for want, id := range map[string]string{"kernel": req.KernelId, "ramdisk": req.RamdiskId} {
			if id == "" {
				continue
			}
			k, err := tx.GetImage(ctx, id)
			if err != nil || k.ImageType != want {
				return fmt.Errorf("%s %s: %w", want, id, errors.Join(store.ErrNotFound, err))
			}
		}
		return tx.InsertImage(ctx, im)
	})
	if err != nil {
		return RegisteredImage{}, err
	}
	return RegisteredImage{ImageId: im.ID, Name: im.Name, Created: true}, nil
}
