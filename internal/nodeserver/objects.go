package nodeserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
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

// maxPut bounds one object a node stores (a manifest of a 16 TiB volume
// is well under it; chunks are 512 KiB).
const maxPut = 256 << 20

var (
	chunkKeyRE    = regexp.MustCompile(`^chunks/([0-9a-f]{2})/([0-9a-f]{64})$`)
	manifestKeyRE = regexp.MustCompile(`^snapshots/(snap-[0-9a-f]{8,17})/manifest\.json$`)
)

// putObject stores what a node writes for a snapshot task: a chunk, whose
// key must be its content's SHA-256 (so a node cannot alter data another
// snapshot shares), or the manifest of a snapshot the node was asked to
// take and that is still pending. Nothing else.
func (s *Server) putObject(st nodeapi.PutObjectStream) error {
	ctx := st.Context()
	node, err := s.authenticate(ctx)
	if err != nil {
		return err
	}
	first, err := st.Recv()
	if err != nil {
		return err
	}
	key := first.Key
	if err := s.mayPut(ctx, node.ID, key); err != nil {
		return err
	}
	if first.Size < 0 || first.Size > maxPut {
		return status.Errorf(codes.InvalidArgument, "object %q: size %d", key, first.Size)
	}
	data := make([]byte, 0, first.Size)
	for p := first; ; {
		if int64(len(data)+len(p.Data)) > first.Size {
			return status.Errorf(codes.InvalidArgument, "object %q: more than the %d bytes announced", key, first.Size)
		}
		data = append(data, p.Data...)
		if p, err = st.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
	}
	if int64(len(data)) != first.Size {
		return status.Errorf(codes.InvalidArgument, "object %q: %d bytes of the %d announced", key, len(data), first.Size)
	}
	if m := chunkKeyRE.FindStringSubmatch(key); m != nil {
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != m[2] {
			return status.Errorf(codes.InvalidArgument, "chunk %q: its bytes do not have that hash", key)
		}
	}
	if err := s.objects.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return status.Errorf(codes.Unavailable, "store object %q: %v", key, err)
	}
	return st.SendAndClose(&nodeapi.PutObjectResponse{})
}

func (s *Server) mayPut(ctx context.Context, nodeID, key string) error {
	if m := chunkKeyRE.FindStringSubmatch(key); m != nil && m[1] == m[2][:2] {
		return nil
	}
	m := manifestKeyRE.FindStringSubmatch(key)
	if m == nil {
		return status.Errorf(codes.PermissionDenied, "object %q is not one nodes may write", key)
	}
	var tasks []nodeapi.SnapshotTask
	err := s.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		tasks, err = nodeSnapshots(ctx, tx, nodeID)
		return err
	})
	if err != nil {
		return status.Errorf(codes.Unavailable, "check snapshot tasks: %v", err)
	}
	for _, t := range tasks {
		if t.SnapshotID == m[1] {
			return nil
		}
	}
	return status.Errorf(codes.PermissionDenied, "snapshot %s is not a pending task of this node", m[1])
}
