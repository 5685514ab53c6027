//go:build linux

package imds

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
)

func socketTTL(t *testing.T, c net.Conn) int {
	t.Helper()
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ttl int
	var gerr error
	_ = raw.Control(func(fd uintptr) { ttl, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_TTL) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	return ttl
}

// TestPutHopLimit: the token's response leaves with the instance's hop
// limit as IP TTL, on a connection that is then closed; GETs are untouched.
func TestPutHopLimit(t *testing.T) {
	in := fullInstance()
	in.HTTPPutResponseHopLimit = 2
	s := newServer(fixed(in), nil)
	var mu sync.Mutex
	var ttl int
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		mu.Lock()
		defer mu.Unlock()
		ttl = socketTTL(t, r.Context().Value(connKey{}).(net.Conn))
	}))
	ts.Config.ConnContext = ConnContext("tap-a")
	ts.Start()
	defer ts.Close()
	send := func(method, path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := send(http.MethodPut, "/latest/api/token", map[string]string{HeaderTokenTTL: "60"})
	mu.Lock()
	if resp.StatusCode != 200 || ttl != 2 || !resp.Close {
		t.Errorf("PUT: %d, TTL %d, close %v; want 200, 2, true", resp.StatusCode, ttl, resp.Close)
	}
	mu.Unlock()
	send(http.MethodGet, "/latest/meta-data/", nil)
	mu.Lock()
	if ttl == 2 {
		t.Errorf("GET after PUT left with TTL %d", ttl)
	}
	mu.Unlock()
	in.HTTPPutResponseHopLimit = 0
	resp = send(http.MethodPut, "/latest/api/token", map[string]string{HeaderTokenTTL: "60"})
	if resp.Close {
		t.Error("hop limit 0 should leave the connection alone")
	}
}
