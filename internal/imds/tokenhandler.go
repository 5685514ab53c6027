package imds

import (
	"net/http"
	"strconv"
	"time"
)

// serveToken answers PUT /latest/api/token: 403 with X-Forwarded-For (the
// request went through a proxy), 400 without a TTL of 1..21600 seconds,
// else 200 with a token for the instance behind the tap.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if _, proxied := r.Header["X-Forwarded-For"]; proxied {
		errorStatus(w, r, http.StatusForbidden)
		return
	}
	ttl, ok := parseTTL(r.Header.Values(HeaderTokenTTL))
	if !ok {
		errorStatus(w, r, http.StatusBadRequest)
		return
	}
	in := s.instance(w, r)
	if in == nil {
		return
	}
	if len(s.TokenKey) < minKeyLen {
		errorStatus(w, r, http.StatusInternalServerError)
		return
	}
	tok := mintToken(s.TokenKey, in.ID, s.now().Add(time.Duration(ttl)*time.Second))
	limitHops(w, r, in.HTTPPutResponseHopLimit)
	w.Header().Set(HeaderTokenTTL, strconv.Itoa(ttl))
	text(w, r, []byte(tok))
}

// parseTTL accepts exactly one header value of plain decimal digits in
// 1..21600.
func parseTTL(vals []string) (int, bool) {
	if len(vals) != 1 || len(vals[0]) == 0 || len(vals[0]) > 5 {
		return 0, false
	}
	for _, c := range vals[0] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	ttl, err := strconv.Atoi(vals[0])
	if err != nil || ttl < 1 || ttl > int(MaxTokenTTL/time.Second) {
		return 0, false
	}
	return ttl, true
}
