package imds

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// tapServer serves h on its own listener whose connections carry tap, as
// the agent does with one listener per guest tap.
func tapServer(h http.Handler, tap string) *httptest.Server {
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return WithTap(ctx, tap)
	}
	ts.Start()
	return ts
}

// byTap is the agent's kind of Lookup: by the tap, ignoring addresses.
func byTap(m map[string]*Instance) Lookup {
	return func(r *http.Request) (*Instance, error) {
		tap, ok := TapFrom(r.Context())
		if in := m[tap]; ok && in != nil {
			return in, nil
		}
		return nil, ErrUnknownInstance
	}
}

func TestAnswerChosenByTap(t *testing.T) {
	s := newServer(byTap(map[string]*Instance{"tap-a": fullInstance(), "tap-b": bareInstance()}), nil)
	a, b, c := tapServer(s, "tap-a"), tapServer(s, "tap-b"), tapServer(s, "tap-c")
	defer a.Close()
	defer b.Close()
	defer c.Close()
	call := func(ts *httptest.Server, method, path, hdr, val string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		req.Header.Set(hdr, val)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	path := "/latest/meta-data/instance-id"
	if code, id := call(a, "GET", path, "X-Test", "1"); code != 200 || id != "i-0a1b2c3d4e5f60718" {
		t.Errorf("tap-a: %d %q", code, id)
	}
	if code, id := call(b, "GET", path, "X-Test", "1"); code != 200 || id != "i-0ffffffffffffffff" {
		t.Errorf("tap-b: %d %q", code, id)
	}
	if code, _ := call(c, "GET", path, "X-Test", "1"); code != 404 {
		t.Errorf("tap-c without an instance: %d", code)
	}
	_, tokA := call(a, "PUT", "/latest/api/token", HeaderTokenTTL, "60")
	if code, _ := call(b, "GET", path, HeaderToken, tokA); code != 401 {
		t.Errorf("tap-a's token on tap-b: %d, want 401", code)
	}
	if code, _ := call(a, "GET", path, HeaderToken, tokA); code != 200 {
		t.Errorf("tap-a's token on tap-a: %d", code)
	}
}
