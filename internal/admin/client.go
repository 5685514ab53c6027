package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls a server's admin API.
type Client struct {
	Credential
	HTTP *http.Client
}

// NewClient makes a client with a bounded timeout.
func NewClient(c Credential) *Client {
	return &Client{Credential: c, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Error is an admin API error answer.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status) }

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Endpoint, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e apiError
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		return &Error{Status: resp.StatusCode, Code: e.Code, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// CreateAccount makes a team account with a root access key.
func (c *Client) CreateAccount(ctx context.Context, name string) (CreatedAccount, error) {
	var out CreatedAccount
	err := c.do(ctx, http.MethodPost, "/admin/v1/accounts", map[string]string{"Name": name}, &out)
	return out, err
}

// ListAccounts lists every account.
func (c *Client) ListAccounts(ctx context.Context) ([]Account, error) {
	var out []Account
	err := c.do(ctx, http.MethodGet, "/admin/v1/accounts", nil, &out)
	return out, err
}

// DeleteAccount removes an account (by id or name). Without force, an
// account that still holds instances, VPCs, buckets, images, snapshots or
// elastic IPs is refused (409 InUse, naming them); with force, its keys are
// revoked at once and everything it owns is removed, its instances
// stopped on their nodes first (which may take minutes).
func (c *Client) DeleteAccount(ctx context.Context, account string, force bool) error {
	p := "/admin/v1/accounts/" + url.PathEscape(account)
	if !force {
		return c.do(ctx, http.MethodDelete, p, nil, nil)
	}
	slow := *c
	slow.HTTP = &http.Client{Transport: c.HTTP.Transport, Timeout: 10 * time.Minute}
	return slow.do(ctx, http.MethodDelete, p+"?force=true", nil, nil)
}

func keysPath(account, user string) string {
	p := "/admin/v1/accounts/" + url.PathEscape(account) + "/keys"
	if user != "" {
		p += "?user=" + url.QueryEscape(user)
	}
	return p
}

// CreateKey adds an access key to an account's root, or to one of its users.
func (c *Client) CreateKey(ctx context.Context, account, user string) (AccessKey, error) {
	var out AccessKey
	err := c.do(ctx, http.MethodPost, keysPath(account, user), nil, &out)
	return out, err
}

// ResetKeys revokes every access key of an account's root (or user) and
// returns the one new key that replaces them.
func (c *Client) ResetKeys(ctx context.Context, account, user string) (AccessKey, error) {
	var out AccessKey
	p := "/admin/v1/accounts/" + url.PathEscape(account) + "/keys/reset"
	if user != "" {
		p += "?user=" + url.QueryEscape(user)
	}
	err := c.do(ctx, http.MethodPost, p, nil, &out)
	return out, err
}

// ListKeys lists an owner's access keys, without secrets.
func (c *Client) ListKeys(ctx context.Context, account, user string) ([]AccessKey, error) {
	var out []AccessKey
	err := c.do(ctx, http.MethodGet, keysPath(account, user), nil, &out)
	return out, err
}

// DeleteKey removes an access key.
func (c *Client) DeleteKey(ctx context.Context, account, user, key string) error {
	p := "/admin/v1/accounts/" + url.PathEscape(account) + "/keys/" + url.PathEscape(key)
	if user != "" {
		p += "?user=" + url.QueryEscape(user)
	}
	return c.do(ctx, http.MethodDelete, p, nil, nil)
}

// RegisterBootFile uploads a kernel ("kernel") or ramdisk ("ramdisk") of
// size bytes from r; wrap r to show progress.
func (c *Client) RegisterBootFile(ctx context.Context, kind, name string, r io.Reader, size int64) (RegisteredImage, error) {
	var out RegisteredImage
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.Endpoint, "/")+"/admin/v1/images/"+kind+"?name="+url.QueryEscape(name), r)
	if err != nil {
		return out, err
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/octet-stream")
	uploads := &http.Client{} // no overall timeout: large files over slow links
	resp, err := uploads.Do(req)
	if err != nil {
		return out, fmt.Errorf("upload %s %s: %w", kind, name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e apiError
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		return out, &Error{Status: resp.StatusCode, Code: e.Code, Message: e.Message}
	}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// RegisterMachine registers a public machine image booting a kernel and ramdisk.
func (c *Client) RegisterMachine(ctx context.Context, req MachineImageRequest) (RegisteredImage, error) {
	var out RegisteredImage
	err := c.do(ctx, http.MethodPost, "/admin/v1/images/machine", req, &out)
	return out, err
}
