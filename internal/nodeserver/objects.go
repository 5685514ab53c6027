package nodeserver

import (
	"context"
	"errors"
	"io"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Key prefixes of snapshot data (see package snapshot's layout).
var snapshotPrefixes = []string{"snapshots/", "chunks/"}

func snapshotKey(key string) bool {
	if strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return false
	}
	for _, p := range snapshotPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// allowed reports whether nodes may read key: snapshot data, or the object
// of a kernel or ramdisk image.
func (s *Server) allowed(ctx context.Context, key string) (bool, error) {
	if snapshotKey(key) {
		return true, nil
	}
	var ok bool
	err := s.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		ok, err = tx.IsBootFileLocation(ctx, key)
		return err
	})
	return ok, err
}

func (s *Server) getObject(req *nodeapi.ObjectRequest, st nodeapi.ObjectStream) error {
	ctx := st.Context()
	if _, err := s.authenticate(ctx); err != nil {
		return err
	}
	ok, err := s.allowed(ctx, req.Key)
	if err != nil {
		return status.Errorf(codes.Unavailable, "check object key: %v", err)
	}
	if !ok {
		return status.Errorf(codes.PermissionDenied, "object %q is not one nodes may read", req.Key)
	}
	rc, err := s.objects.Get(ctx, req.Key)
	if errors.Is(err, snapshot.ErrNotFound) {
		return status.Errorf(codes.NotFound, "object %q not found", req.Key)
	}
	if err != nil {
		return status.Errorf(codes.Unavailable, "open object %q: %v", req.Key, err)
	}
	defer rc.Close()
	if req.HeadOnly {
		return st.Send(&nodeapi.ObjectChunk{})
	}
	buf := make([]byte, nodeapi.MaxChunk)
	for {
		n, err := io.ReadFull(rc, buf)
		if n > 0 {
			if serr := st.Send(&nodeapi.ObjectChunk{Data: buf[:n]}); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return status.Errorf(codes.Unavailable, "read object %q: %v", req.Key, err)
		}
	}
}

func (s *Server) listObjects(ctx context.Context, req *nodeapi.ListObjectsRequest) (*nodeapi.ListObjectsResponse, error) {
	if _, err := s.authenticate(ctx); err != nil {
		return nil, err
	}
	if !snapshotKey(req.Prefix) {
		return nil, status.Errorf(codes.PermissionDenied, "nodes may list only under %s", strings.Join(snapshotPrefixes, " or "))
	}
	keys, err := s.objects.List(ctx, req.Prefix)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "list %q: %v", req.Prefix, err)
	}
	if keys == nil {
		keys = []string{}
	}
	return &nodeapi.ListObjectsResponse{Keys: keys}, nil
}
