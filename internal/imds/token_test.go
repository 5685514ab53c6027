package imds

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTokenTTL(t *testing.T) {
	s := newServer(fixed(fullInstance()), nil)
	tests := []struct {
		ttl  []string
		code int
	}{
		{nil, 400},
		{[]string{""}, 400},
		{[]string{"0"}, 400},
		{[]string{"-1"}, 400},
		{[]string{"21601"}, 400},
		{[]string{"100000"}, 400},
		{[]string{"99999999999999999999"}, 400},
		{[]string{"abc"}, 400},
		{[]string{"+5"}, 400},
		{[]string{" 5"}, 400},
		{[]string{"5", "5"}, 400},
		{[]string{"1"}, 200},
		{[]string{"21600"}, 200},
		{[]string{"00060"}, 200},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodPut, "/latest/api/token", nil)
		for _, v := range tc.ttl {
			r.Header.Add(HeaderTokenTTL, v)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("TTL %q: %d, want %d", tc.ttl, w.Code, tc.code)
		}
		if tc.code == 200 && w.Header().Get(HeaderTokenTTL) != strings.TrimLeft(tc.ttl[0], "0") {
			t.Errorf("TTL %q: response TTL header %q", tc.ttl, w.Header().Get(HeaderTokenTTL))
		}
	}
}

func TestTokenForwardedFor(t *testing.T) {
	s := newServer(fixed(fullInstance()), nil)
	for _, xff := range []string{"10.0.1.5", ""} {
		r := httptest.NewRequest(http.MethodPut, "/latest/api/token", nil)
		r.Header.Set(HeaderTokenTTL, "21600")
		r.Header["X-Forwarded-For"] = []string{xff}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Errorf("X-Forwarded-For %q: %d, want 403", xff, w.Code)
		}
	}
	// without the TTL too: 403 comes first, as on AWS
	code, _, _ := do(t, s, http.MethodPut, "/latest/api/token", map[string]string{"X-Forwarded-For": "1.2.3.4"})
	if code != http.StatusForbidden {
		t.Errorf("X-Forwarded-For without TTL: %d", code)
	}
}

func TestTokenUse(t *testing.T) {
	clock := testTime()
	a, b := fullInstance(), bareInstance()
	s := newServer(byHost(map[string]*Instance{"169.254.169.254": a, "other": b}), &clock)
	tok := putToken(t, s, "60")
	if strings.ContainsAny(tok, "\r\n \t") || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	path := "/latest/meta-data/instance-id"
	check := func(name, token string, want int) {
		t.Helper()
		code, body, _ := do(t, s, http.MethodGet, path, map[string]string{HeaderToken: token})
		if code != want {
			t.Errorf("%s: %d %q, want %d", name, code, body, want)
		}
	}
	check("fresh", tok, 200)
	check("garbage", "AQAAAAAAAAAA", 401)
	check("empty", "", 401)
	check("tampered", tok[:len(tok)-2]+"xx", 401)
	clock = clock.Add(59 * time.Second)
	check("before expiry", tok, 200)
	clock = clock.Add(time.Second)
	check("at expiry", tok, 401)

	// a token is bound to the instance it was minted for
	r := httptest.NewRequest(http.MethodGet, "http://other"+path, nil)
	r.Header.Set(HeaderToken, putToken(t, s, "60"))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("other instance's token: %d, want 401", w.Code)
	}
}

func TestTokenSurvivesRestart(t *testing.T) {
	clock := testTime()
	in := fullInstance()
	tok := putToken(t, newServer(fixed(in), &clock), "21600")
	again := newServer(fixed(in), &clock)
	code, _, _ := do(t, again, http.MethodGet, "/latest/meta-data/", map[string]string{HeaderToken: tok})
	if code != 200 {
		t.Errorf("same key after restart: %d", code)
	}
	key, err := NewTokenKey()
	if err != nil {
		t.Fatal(err)
	}
	rekeyed := &Server{Lookup: fixed(in), TokenKey: key, Now: again.Now}
	code, _, _ = do(t, rekeyed, http.MethodGet, "/latest/meta-data/", map[string]string{HeaderToken: tok})
	if code != 401 {
		t.Errorf("new key: %d, want 401", code)
	}
}

func TestTokensRequired(t *testing.T) {
	in := fullInstance()
	in.HTTPTokensRequired = true
	s := newServer(fixed(in), nil)
	for _, path := range []string{"/", "/latest/meta-data/instance-id", "/latest/user-data", "/latest/nothing"} {
		if code, _ := get(t, s, path); code != 401 {
			t.Errorf("IMDSv1 GET %s: %d, want 401", path, code)
		}
	}
	tok := putToken(t, s, "30")
	code, body, _ := do(t, s, http.MethodGet, "/latest/meta-data/instance-id", map[string]string{HeaderToken: tok})
	if code != 200 || body != in.ID {
		t.Errorf("IMDSv2 GET: %d %q", code, body)
	}
	in.HTTPTokensRequired = false
	if code, _ := get(t, s, "/latest/meta-data/instance-id"); code != 200 {
		t.Errorf("IMDSv1 when optional: %d", code)
	}
}

func TestTokenNeedsKey(t *testing.T) {
	s := &Server{Lookup: fixed(fullInstance()), TokenKey: []byte("short")}
	code, _, _ := do(t, s, http.MethodPut, "/latest/api/token", map[string]string{HeaderTokenTTL: "60"})
	if code != 500 {
		t.Errorf("PUT with a short key: %d, want 500", code)
	}
	tok := mintToken([]byte("short"), "i-0a1b2c3d4e5f60718", testTime().Add(time.Hour))
	code, _, _ = do(t, s, http.MethodGet, "/", map[string]string{HeaderToken: tok})
	if code != 401 {
		t.Errorf("GET with a short key's token: %d, want 401", code)
	}
}

func TestTokenTrailingSlash(t *testing.T) {
	s := newServer(fixed(fullInstance()), nil)
	code, _, _ := do(t, s, http.MethodPut, "/latest/api/token/", map[string]string{HeaderTokenTTL: "60"})
	if code != 200 {
		t.Errorf("PUT /latest/api/token/: %d", code)
	}
}
