package nodeapi

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// ErrReadOnly: a node cannot delete from the server's object store.
var ErrReadOnly = errors.New("the server's object store is read-only for nodes")

// remoteObjects is snapshot.Objects over GetObject and ListObjects.
type remoteObjects struct{ conn *grpc.ClientConn }

var getObjectDesc = grpc.StreamDesc{StreamName: "GetObject", ServerStreams: true}

// objectError keeps snapshot.ErrNotFound in the chain for a missing object.
func objectError(op, key string, err error) error {
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("%s %s: %w", op, key, errors.Join(snapshot.ErrNotFound, err))
	}
	return fmt.Errorf("%s %s: %w", op, key, err)
}

func (o remoteObjects) open(ctx context.Context, req *ObjectRequest) (grpc.ClientStream, *ObjectChunk, error) {
	s, err := o.conn.NewStream(ctx, &getObjectDesc, MethodGetObject)
	if err != nil {
		return nil, nil, err
	}
	if err := s.SendMsg(req); err != nil {
		return nil, nil, err
	}
	if err := s.CloseSend(); err != nil {
		return nil, nil, err
	}
	first := new(ObjectChunk)
	if err := s.RecvMsg(first); err != nil {
		if errors.Is(err, io.EOF) { // an empty object
			return s, nil, nil
		}
		return nil, nil, err
	}
	return s, first, nil
}

// Get streams the object; Close the reader to stop early.
func (o remoteObjects) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	s, first, err := o.open(ctx, &ObjectRequest{Key: key})
	if err != nil {
		cancel()
		return nil, objectError("get object", key, err)
	}
	r := &objectReader{s: s, cancel: cancel, key: key}
	if first == nil {
		r.done = true
	} else {
		r.buf = first.Data
	}
	return r, nil
}

// Exists asks the server whether the object exists.
func (o remoteObjects) Exists(ctx context.Context, key string) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, _, err := o.open(ctx, &ObjectRequest{Key: key, HeadOnly: true})
	switch {
	case err == nil:
		return true, nil
	case status.Code(err) == codes.NotFound:
		return false, nil
	default:
		return false, objectError("stat object", key, err)
	}
}

// List lists keys under prefix.
func (o remoteObjects) List(ctx context.Context, prefix string) ([]string, error) {
	var out ListObjectsResponse
	if err := o.conn.Invoke(ctx, MethodListObjects, &ListObjectsRequest{Prefix: prefix}, &out); err != nil {
		return nil, objectError("list objects", prefix, err)
	}
	return out.Keys, nil
}

var putObjectDesc = grpc.StreamDesc{StreamName: "PutObject", ClientStreams: true}

// Put stores an object through the server, which accepts only what a
// node may write: chunks (checked against their hash) and the manifests
// of the snapshots it was asked to take.
func (o remoteObjects) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := o.conn.NewStream(ctx, &putObjectDesc, MethodPutObject)
	if err != nil {
		return objectError("put object", key, err)
	}
	part := &PutObjectPart{Key: key, Size: size}
	buf := make([]byte, min(max(size, 1), MaxChunk))
	for sent := int64(0); ; {
		n, rerr := io.ReadFull(r, buf)
		part.Data = buf[:n]
		sent += int64(n)
		if n > 0 || sent == 0 {
			if err := s.SendMsg(part); err != nil {
				return objectError("put object", key, err)
			}
		}
		part = &PutObjectPart{}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("put object %s: %w", key, rerr)
		}
	}
	if err := s.CloseSend(); err != nil {
		return objectError("put object", key, err)
	}
	if err := s.RecvMsg(new(PutObjectResponse)); err != nil {
		return objectError("put object", key, err)
	}
	return nil
}

// Delete is refused: nodes never delete the server's objects.
func (remoteObjects) Delete(context.Context, string) error { return ErrReadOnly }

type objectReader struct {
	s      grpc.ClientStream
	cancel context.CancelFunc
	key    string
	buf    []byte
	done   bool
}

func (r *objectReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		c := new(ObjectChunk)
		if err := r.s.RecvMsg(c); err != nil {
			if errors.Is(err, io.EOF) {
				r.done = true
				return 0, io.EOF
			}
			return 0, objectError("read object", r.key, err)
		}
		r.buf = c.Data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *objectReader) Close() error {
	r.cancel()
	return nil
}
