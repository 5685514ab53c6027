package nodeapi

// The RPC messages besides Report and Desired (types.go).

// JoinRequest exchanges a join token and a certificate signing request for
// a client certificate.
type JoinRequest struct {
	Token string `json:"token"` // K1.<ca hash>.<id>.<secret>
	CSR   string `json:"csr"`   // PEM "CERTIFICATE REQUEST"
	Name  string `json:"name"`  // the node's host name
}

// JoinResponse carries the node's identity.
type JoinResponse struct {
	NodeID      string `json:"nodeId"`
	Certificate string `json:"certificate"` // PEM, signed by the CA
	CA          string `json:"ca"`          // PEM of the CA certificate
}

// ObjectRequest names an object to stream. With HeadOnly the server sends
// one empty chunk carrying Size when the object exists.
type ObjectRequest struct {
	Key      string `json:"key"`
	HeadOnly bool   `json:"headOnly,omitempty"`
}

// ObjectChunk is one piece of an object, at most MaxChunk bytes.
type ObjectChunk struct {
	Data []byte `json:"data,omitempty"`
}

// ListObjectsRequest asks for the keys under a prefix.
type ListObjectsRequest struct {
	Prefix string `json:"prefix"`
}

// ListObjectsResponse lists keys, sorted.
type ListObjectsResponse struct {
	Keys []string `json:"keys"`
}

// PutObjectPart is one part of an object a node stores; the first names
// it and gives its whole size.
type PutObjectPart struct {
	Key  string `json:"key,omitempty"`
	Size int64  `json:"size,omitempty"`
	Data []byte `json:"data,omitempty"`
}

// PutObjectResponse ends a PutObject.
type PutObjectResponse struct{}

// MaxChunk bounds the bytes in one ObjectChunk.
const MaxChunk = 1 << 20

// DefaultPort is where `kumo server` listens for nodes.
const DefaultPort = "8776"

// MaxMessage bounds one message either way (a Report carries up to 64 KiB
// of console per instance).
const MaxMessage = 32 << 20
