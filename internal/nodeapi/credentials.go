package nodeapi

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
)

// MethodInstanceCredentials is the call a node makes for the temporary
// credentials of an instance's role (its instance profile), which the
// metadata service hands the guest. The node asks when a guest needs
// them and they are missing or near their end; the server issues a fresh
// role session each time, so nothing is stored on either side and a
// restart of either loses nothing.
const MethodInstanceCredentials = "/" + ServiceName + "/InstanceCredentials"

// InstanceCredentialsRequest names an instance running on the caller.
type InstanceCredentialsRequest struct {
	InstanceID string `json:"instanceId"`
}

// InstanceCredentials are an instance's profile and its role's session.
type InstanceCredentials struct {
	InstanceProfileARN string    `json:"instanceProfileArn"`
	InstanceProfileID  string    `json:"instanceProfileId"`
	RoleName           string    `json:"roleName"` // "" : the profile holds no role (no credentials)
	AccessKeyID        string    `json:"accessKeyId,omitempty"`
	SecretAccessKey    string    `json:"secretAccessKey,omitempty"`
	Token              string    `json:"token,omitempty"`
	Expiration         time.Time `json:"expiration"`
}

// CredentialsFetcher gets an instance's credentials from the server
// (*Client does).
type CredentialsFetcher interface {
	InstanceCredentials(ctx context.Context, instanceID string) (InstanceCredentials, error)
}

// InstanceCredentials asks the server for an instance's role credentials.
func (c *Client) InstanceCredentials(ctx context.Context, instanceID string) (InstanceCredentials, error) {
	var out InstanceCredentials
	if err := c.conn.Invoke(ctx, MethodInstanceCredentials, &InstanceCredentialsRequest{InstanceID: instanceID}, &out); err != nil {
		return out, fmt.Errorf("credentials of instance %s: %w", instanceID, err)
	}
	return out, nil
}

func instanceCredentialsHandler(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	in := new(InstanceCredentialsRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	call := func(ctx context.Context, req any) (any, error) {
		return srv.(NodeServer).InstanceCredentials(ctx, req.(*InstanceCredentialsRequest))
	}
	if ic == nil {
		return call(ctx, in)
	}
	return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: MethodInstanceCredentials}, call)
}
