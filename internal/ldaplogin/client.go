package ldaplogin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// CheckEndpoint refuses http:// to anything but loopback: the password
// would cross the network in clear text.
func CheckEndpoint(endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want https://host:port", endpoint)
	}
	switch u.Scheme {
	case "https":
	case "http":
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("endpoint %s: http:// would send the password in clear text; use https:// (http only on loopback)", endpoint)
		}
	default:
		return nil, fmt.Errorf("endpoint %q: scheme must be https (or http on loopback)", endpoint)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + Path
	return u, nil
}

// RequestLogin posts req to the server's login endpoint. A refusal comes
// back as *Error (with the role choices when the user must pick one).
func RequestLogin(ctx context.Context, client *http.Client, endpoint string, req Request) (Response, error) {
	u, err := CheckEndpoint(endpoint)
	if err != nil {
		return Response{}, err
	}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(hr)
	if err != nil {
		return Response{}, fmt.Errorf("login at %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Response{}, fmt.Errorf("login at %s: %w", u.Host, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e Error
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			return Response{}, fmt.Errorf("login at %s: HTTP %d (is this a Kumo endpoint with LDAP login enabled?)", u.Host, resp.StatusCode)
		}
		return Response{}, &e
	}
	var out Response
	if err := json.Unmarshal(b, &out); err != nil || out.AccessKeyID == "" {
		return Response{}, fmt.Errorf("login at %s: unreadable answer", u.Host)
	}
	return out, nil
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
