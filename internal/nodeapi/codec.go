package nodeapi

import (
	"encoding/json"
	"fmt"
)

// Codec marshals the messages as JSON. It is passed to each connection and
// server (never registered globally), so gRPC's protobuf codec stays as is.
type Codec struct{}

// Marshal encodes v.
func (Codec) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// Unmarshal decodes data into v.
func (Codec) Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// Name is the content subtype: application/grpc+json.
func (Codec) Name() string { return "json" }
