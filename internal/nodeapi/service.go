package nodeapi

import (
	"context"

	"google.golang.org/grpc"
)

// ServiceName is the gRPC service between server and node.
const ServiceName = "kumo.node.v1.Node"

// Full method names.
const (
	MethodJoin        = "/" + ServiceName + "/Join"
	MethodConnect     = "/" + ServiceName + "/Connect"
	MethodGetObject   = "/" + ServiceName + "/GetObject"
	MethodListObjects = "/" + ServiceName + "/ListObjects"
	MethodPutObject   = "/" + ServiceName + "/PutObject"
)

// NodeServer is the server side of the service.
type NodeServer interface {
	// Join needs no client certificate: the token authenticates it.
	Join(context.Context, *JoinRequest) (*JoinResponse, error)
	// Connect carries Reports up and Desired states down.
	Connect(ConnectStream) error
	// GetObject streams an object in chunks of at most MaxChunk bytes.
	GetObject(*ObjectRequest, ObjectStream) error
	// ListObjects lists keys under a prefix.
	ListObjects(context.Context, *ListObjectsRequest) (*ListObjectsResponse, error)
	// PutObject stores an object a node wrote (a volume snapshot's chunk
	// or manifest), sent in parts of at most MaxChunk bytes.
	PutObject(PutObjectStream) error
	// InstanceCredentials issues the role credentials of an instance on
	// the calling node.
	InstanceCredentials(context.Context, *InstanceCredentialsRequest) (*InstanceCredentials, error)
}

// PutObjectStream is the server's side of PutObject.
type PutObjectStream interface {
	Context() context.Context
	Recv() (*PutObjectPart, error)
	SendAndClose(*PutObjectResponse) error
}

// ConnectStream is the server's side of Connect.
type ConnectStream interface {
	Context() context.Context
	Send(*Desired) error
	Recv() (*Report, error)
}

// ObjectStream is the server's side of GetObject.
type ObjectStream interface {
	Context() context.Context
	Send(*ObjectChunk) error
}

// RegisterServer adds impl to s.
func RegisterServer(s *grpc.Server, impl NodeServer) {
	s.RegisterService(&serviceDesc, impl)
}

// ServerCodec is the option every node gRPC server needs.
func ServerCodec() grpc.ServerOption { return grpc.ForceServerCodec(Codec{}) }

var serviceDesc = grpc.ServiceDesc{
	ServiceName: ServiceName,
	HandlerType: (*NodeServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Join", Handler: joinHandler},
		{MethodName: "ListObjects", Handler: listObjectsHandler},
		{MethodName: "InstanceCredentials", Handler: instanceCredentialsHandler},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Connect", Handler: connectHandler, ServerStreams: true, ClientStreams: true},
		{StreamName: "GetObject", Handler: getObjectHandler, ServerStreams: true},
		{StreamName: "PutObject", Handler: putObjectHandler, ClientStreams: true},
	},
	Metadata: "kumo/node/v1",
}

func joinHandler(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	in := new(JoinRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	call := func(ctx context.Context, req any) (any, error) {
		return srv.(NodeServer).Join(ctx, req.(*JoinRequest))
	}
	if ic == nil {
		return call(ctx, in)
	}
	return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: MethodJoin}, call)
}

func listObjectsHandler(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	in := new(ListObjectsRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	call := func(ctx context.Context, req any) (any, error) {
		return srv.(NodeServer).ListObjects(ctx, req.(*ListObjectsRequest))
	}
	if ic == nil {
		return call(ctx, in)
	}
	return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: MethodListObjects}, call)
}

func connectHandler(srv any, stream grpc.ServerStream) error {
	return srv.(NodeServer).Connect(connectServer{stream})
}

func getObjectHandler(srv any, stream grpc.ServerStream) error {
	in := new(ObjectRequest)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	return srv.(NodeServer).GetObject(in, objectServer{stream})
}

type connectServer struct{ grpc.ServerStream }

func (s connectServer) Send(d *Desired) error { return s.SendMsg(d) }

func (s connectServer) Recv() (*Report, error) {
	r := new(Report)
	if err := s.RecvMsg(r); err != nil {
		return nil, err
	}
	return r, nil
}

type objectServer struct{ grpc.ServerStream }

func (s objectServer) Send(c *ObjectChunk) error { return s.SendMsg(c) }

func putObjectHandler(srv any, stream grpc.ServerStream) error {
	return srv.(NodeServer).PutObject(putObjectServer{stream})
}

type putObjectServer struct{ grpc.ServerStream }

func (s putObjectServer) Recv() (*PutObjectPart, error) {
	p := new(PutObjectPart)
	if err := s.RecvMsg(p); err != nil {
		return nil, err
	}
	return p, nil
}

func (s putObjectServer) SendAndClose(r *PutObjectResponse) error { return s.SendMsg(r) }
