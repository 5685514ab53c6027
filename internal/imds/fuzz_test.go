package imds

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// FuzzServeHTTP: any method, path and headers get an answer among the
// statuses the service uses, and never a panic.
func FuzzServeHTTP(f *testing.F) {
	for _, p := range []string{"/", "/latest/meta-data/", "/latest/api/token", "//a/../b",
		"/latest/meta-data/public-keys/0=k1", "/latest/dynamic/instance-identity/document", "x"} {
		f.Add("GET", p, "", "21600")
		f.Add("PUT", p, "AQ", "-1")
	}
	clock := testTime()
	in := fullInstance()
	s := newServer(fixed(in), &clock)
	tok := mintToken(testKey(), in.ID, clock.Add(time.Minute))
	f.Add("HEAD", "/latest/user-data", tok, "1")
	f.Fuzz(func(t *testing.T, method, path, token, ttl string) {
		r := &http.Request{Method: method, URL: &url.URL{Path: path}, Header: http.Header{},
			Host: "169.254.169.254", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		if token != "" {
			r.Header.Set(HeaderToken, token)
		}
		r.Header.Set(HeaderTokenTTL, ttl)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 401, 403, 404, 405:
		default:
			t.Errorf("%s %q: status %d", method, path, w.Code)
		}
	})
}
