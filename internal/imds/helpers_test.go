package imds

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

const testKeyText = "0123456789abcdef0123456789abcdef"

func testKey() []byte { return []byte(testKeyText) }

func testTime() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }

func fullInstance() *Instance {
	return &Instance{
		ID: "i-0a1b2c3d4e5f60718", AccountID: "123456789012", ImageID: "ami-0123456789abcdef0",
		InstanceType: "t3.micro", Region: "eu-west-1", AvailabilityZone: "eu-west-1a",
		PrivateIP: "10.0.1.5", MAC: "52:54:00:AB:cd:01",
		SubnetID: "subnet-0123456789abcdef0", SubnetCIDR: "10.0.1.0/24",
		VPCID: "vpc-0123456789abcdef0", VPCCIDR: "10.0.0.0/16",
		InterfaceID: "eni-0123456789abcdef0", ReservationID: "r-0123456789abcdef0",
		SecurityGroups: []string{"default", "web"}, SecurityGroupIDs: []string{"sg-0000000000000000a", "sg-0000000000000000b"},
		KeyName: "k1", PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk k1\n",
		UserData:    []byte("#!/bin/sh\necho hello\n"),
		PendingTime: time.Date(2026, 11, 25, 11, 59, 30, 123, time.FixedZone("x", 3600)),
	}
}

// bareInstance has no key, no user-data, no public address.
func bareInstance() *Instance {
	in := fullInstance()
	in.ID = "i-0ffffffffffffffff"
	in.KeyName, in.PublicKey, in.UserData = "", "", nil
	return in
}

// fixed serves in to every request.
func fixed(in *Instance) Lookup {
	return func(*http.Request) (*Instance, error) { return in, nil }
}

// byHost picks the instance by the request's Host, standing in for the tap
// lookup so that two instances can share one test server.
func byHost(m map[string]*Instance) Lookup {
	return func(r *http.Request) (*Instance, error) {
		if in, ok := m[r.Host]; ok {
			return in, nil
		}
		return nil, ErrUnknownInstance
	}
}

func newServer(l Lookup, clock *time.Time) *Server {
	s := &Server{Lookup: l, TokenKey: testKey()}
	if clock != nil {
		s.Now = func() time.Time { return *clock }
	}
	return s
}

// do runs one request through h and returns status, body and headers.
func do(t *testing.T, h http.Handler, method, path string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	r := httptest.NewRequest(method, "http://169.254.169.254"+path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(body), w.Result().Header
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	code, body, _ := do(t, h, http.MethodGet, path, nil)
	return code, body
}

func putToken(t *testing.T, h http.Handler, ttl string) string {
	t.Helper()
	code, body, _ := do(t, h, http.MethodPut, "/latest/api/token", map[string]string{HeaderTokenTTL: ttl})
	if code != http.StatusOK {
		t.Fatalf("PUT token: %d %s", code, body)
	}
	return body
}
