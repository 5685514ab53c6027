package sigv4

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm      = "AWS4-HMAC-SHA256"
	scopeTerminal  = "aws4_request"
	amzDateLayout  = "20060102T150405Z"
	scopeDateLen   = len("20060102")
	maxPresignLife = 7 * 24 * time.Hour

	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramExpires       = "X-Amz-Expires"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramSecurityToken = "X-Amz-Security-Token"
)

// auth is the signature information taken from a request.
type auth struct {
	presigned     bool
	accessKeyID   string
	scopeDate     string // yyyymmdd
	region        string
	service       string
	scope         string // date/region/service/aws4_request
	signedHeaders string // as sent, ';'-separated
	headerNames   []string
	signature     [32]byte
	amzDate       string // request time in 20060102T150405Z form
	time          time.Time
	expires       time.Duration // presigned only
	sessionToken  string
}

// malformed returns an ErrMalformed error with the given message.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrMalformed)
}

// parseAuth extracts the signature information from r, from either its
// Authorization header or its presigned query parameters.
func parseAuth(r *http.Request, query []queryPair) (*auth, error) {
	header := r.Header.Values("Authorization")
	presigned := hasPresignParams(query)
	switch {
	case len(header) == 0 && !presigned:
		if hasParam(query, "Signature") && hasParam(query, "AWSAccessKeyId") {
			return nil, malformed("signature version 2 is not supported, use AWS4-HMAC-SHA256")
		}
		return nil, fmt.Errorf("no Authorization header or X-Amz-Signature query parameter: %w", ErrMissingAuth)
	case len(header) > 0 && presigned:
		return nil, malformed("only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case len(header) > 1:
		return nil, malformed("request has more than one Authorization header")
	case presigned:
		return parsePresigned(query)
	}
	a, err := parseAuthorization(header[0])
	if err != nil {
		return nil, err
	}
	if err := a.setHeaderTime(r.Header); err != nil {
		return nil, err
	}
	a.sessionToken = r.Header.Get(paramSecurityToken)
	return a, a.checkScopeDate()
}

func hasPresignParams(query []queryPair) bool {
	for _, p := range query {
		switch p.key {
		case paramAlgorithm, paramCredential, paramSignature:
			return true
		}
	}
	return false
}

func hasParam(query []queryPair, key string) bool {
	_, ok := param(query, key)
	return ok
}

// param returns the first value of key in query.
func param(query []queryPair, key string) (string, bool) {
	for _, p := range query {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// parseAuthorization parses an "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." header value. The request time is not set.
func parseAuthorization(value string) (*auth, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(value), " ")
	if alg != algorithm {
		return nil, malformed("unsupported Authorization algorithm %q, only %s is supported", truncate(alg), algorithm)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, malformed("Authorization header parameter %q is not of the form key=value", truncate(part))
		}
		var dst *string
		var seen *bool
		switch key {
		case "Credential":
			dst, seen = &cred, &haveCred
		case "SignedHeaders":
			dst, seen = &signed, &haveSigned
		case "Signature":
			dst, seen = &sig, &haveSig
		default:
			return nil, malformed("Authorization header has unknown parameter %q", truncate(key))
		}
		if *seen {
			return nil, malformed("Authorization header has duplicate parameter %q", key)
		}
		*dst, *seen = val, true
	}
	if err := requireParams("Authorization header", haveCred, haveSigned, haveSig); err != nil {
		return nil, err
	}
	return newAuth(false, cred, signed, sig)
}

// requireParams reports the missing parameters in AWS's wording.
func requireParams(where string, cred, signed, sig bool) error {
	var missing []string
	for _, p := range []struct {
		name string
		ok   bool
	}{{"Credential", cred}, {"SignedHeaders", signed}, {"Signature", sig}} {
		if !p.ok {
			missing = append(missing, fmt.Sprintf("%s requires '%s' parameter", where, p.name))
		}
	}
	if len(missing) > 0 {
		return malformed("%s", strings.Join(missing, ". "))
	}
	return nil
}

// parsePresigned parses the X-Amz-* query parameters of a presigned URL.
func parsePresigned(query []queryPair) (*auth, error) {
	alg, _ := param(query, paramAlgorithm)
	if alg != algorithm {
		return nil, malformed("X-Amz-Algorithm %q is not supported, only %s is supported", truncate(alg), algorithm)
	}
	cred, haveCred := param(query, paramCredential)
	signed, haveSigned := param(query, paramSignedHeaders)
	sig, haveSig := param(query, paramSignature)
	if err := requireParams("query-string authentication", haveCred, haveSigned, haveSig); err != nil {
		return nil, err
	}
	a, err := newAuth(true, cred, signed, sig)
	if err != nil {
		return nil, err
	}
	date, ok := param(query, paramDate)
	if !ok {
		return nil, malformed("query-string authentication requires the X-Amz-Date parameter")
	}
	if err := a.setTime(date, paramDate); err != nil {
		return nil, err
	}
	if a.expires, err = parseExpires(query); err != nil {
		return nil, err
	}
	a.sessionToken, _ = param(query, paramSecurityToken)
	return a, a.checkScopeDate()
}

func parseExpires(query []queryPair) (time.Duration, error) {
	s, ok := param(query, paramExpires)
	if !ok {
		return 0, malformed("query-string authentication requires the X-Amz-Expires parameter")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, malformed("X-Amz-Expires should be a number of seconds, got %q", truncate(s))
	}
	if n > int64(maxPresignLife/time.Second) {
		return 0, malformed("X-Amz-Expires must be less than a week (in seconds) that is 604800, got %d", n)
	}
	return time.Duration(n) * time.Second, nil
}

// newAuth checks and stores the credential, signed headers and signature.
func newAuth(presigned bool, cred, signed, sig string) (*auth, error) {
	a := &auth{presigned: presigned, signedHeaders: signed}
	if err := a.parseCredential(cred); err != nil {
		return nil, err
	}
	if err := a.parseSignedHeaders(); err != nil {
		return nil, err
	}
	if len(sig) != 2*len(a.signature) {
		return nil, malformed("signature must be %d hexadecimal characters", 2*len(a.signature))
	}
	if _, err := hex.Decode(a.signature[:], []byte(sig)); err != nil {
		return nil, malformed("signature must be hexadecimal")
	}
	return a, nil
}

// parseCredential parses "AKID/yyyymmdd/region/service/aws4_request".
func (a *auth) parseCredential(cred string) error {
	akid, scope, ok := strings.Cut(cred, "/")
	if !ok || akid == "" {
		return malformed("Credential %q should be of the form <access key id>/<date>/<region>/<service>/aws4_request", truncate(cred))
	}
	parts := strings.Split(scope, "/")
	if len(parts) != 4 {
		return malformed("credential scope %q should have 4 '/'-separated parts: <date>/<region>/<service>/aws4_request", truncate(scope))
	}
	if parts[3] != scopeTerminal {
		return malformed("credential scope %q should end in %s", truncate(scope), scopeTerminal)
	}
	if _, err := time.Parse("20060102", parts[0]); err != nil || len(parts[0]) != scopeDateLen {
		return malformed("credential scope date %q should be in yyyyMMdd format", truncate(parts[0]))
	}
	if parts[1] == "" || parts[2] == "" {
		return malformed("credential scope %q has an empty region or service", truncate(scope))
	}
	a.accessKeyID, a.scope = akid, scope
	a.scopeDate, a.region, a.service = parts[0], parts[1], parts[2]
	return nil
}

// parseSignedHeaders splits the signed header list and checks that host is
// in it.
func (a *auth) parseSignedHeaders() error {
	if a.signedHeaders == "" {
		return malformed("SignedHeaders must not be empty")
	}
	a.headerNames = strings.Split(a.signedHeaders, ";")
	host := false
	for i, name := range a.headerNames {
		if name == "" {
			return malformed("SignedHeaders %q has an empty header name", truncate(a.signedHeaders))
		}
		if name != strings.ToLower(name) {
			return malformed("SignedHeaders %q must be lower-case", truncate(a.signedHeaders))
		}
		if i > 0 && a.headerNames[i-1] >= name {
			return malformed("SignedHeaders %q must be sorted and without duplicates", truncate(a.signedHeaders))
		}
		host = host || name == "host"
	}
	if !host {
		return malformed("'Host' must be a signed header")
	}
	return nil
}

// setHeaderTime sets the request time from X-Amz-Date, or failing that Date.
func (a *auth) setHeaderTime(h http.Header) error {
	if v := h.Values(paramDate); len(v) > 0 {
		if len(v) > 1 {
			return malformed("request has more than one X-Amz-Date header")
		}
		return a.setTime(v[0], paramDate)
	}
	v := h.Get("Date")
	if v == "" {
		return malformed("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header")
	}
	if t, err := http.ParseTime(v); err == nil {
		v = t.UTC().Format(amzDateLayout)
	}
	return a.setTime(v, "Date")
}

func (a *auth) setTime(value, name string) error {
	t, err := time.Parse(amzDateLayout, value)
	if err != nil || len(value) != len(amzDateLayout) {
		return malformed("%s %q must be in ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'", name, truncate(value))
	}
	a.amzDate, a.time = value, t
	return nil
}

// checkScopeDate checks that the credential scope date is the request's day.
func (a *auth) checkScopeDate() error {
	if a.amzDate[:scopeDateLen] != a.scopeDate {
		return malformed("credential scope date %s does not match the request date %s", a.scopeDate, a.amzDate[:scopeDateLen])
	}
	return nil
}

// truncate shortens s for inclusion in error messages.
func truncate(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
