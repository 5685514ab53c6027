package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Payload hash values that X-Amz-Content-Sha256 may carry instead of a hex
// SHA-256 of the body. They are signed verbatim and the body is not checked.
const (
	UnsignedPayload                 = "UNSIGNED-PAYLOAD"
	StreamingPayload                = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// DefaultMaxSkew is the clock skew allowed when Verifier.MaxSkew is zero.
const DefaultMaxSkew = 15 * time.Minute

// Lookup returns the secret for an access key id. It returns an error
// wrapping ErrUnknownAccessKey when the key does not exist or is inactive.
type Lookup func(ctx context.Context, accessKeyID string) (secret string, err error)

// Verifier verifies SigV4 signatures. The zero value is not usable: Lookup
// must be set. A Verifier is safe for concurrent use if Lookup and Now are.
type Verifier struct {
	// Lookup returns the secret access key for an access key id.
	Lookup Lookup
	// Now returns the current time; it defaults to time.Now.
	Now func() time.Time
	// MaxSkew is the largest allowed distance between the request time and
	// now, in either direction; it defaults to DefaultMaxSkew.
	MaxSkew time.Duration
	// S3 selects Amazon S3's canonical URI rule (the path as sent, without
	// a second escaping or normalisation) and, for presigned URLs without
	// X-Amz-Content-Sha256, tries UNSIGNED-PAYLOAD first.
	S3 bool
	// SessionToken checks an X-Amz-Security-Token sent with the access key
	// and returns an error wrapping ErrInvalidSessionToken when it is not
	// valid. When nil, every token is invalid: a server that issues no
	// temporary credentials must not ignore one.
	SessionToken func(ctx context.Context, accessKeyID, token string) error
}

// Result describes a verified request.
type Result struct {
	AccessKeyID string
	Date        string // credential scope date, yyyymmdd
	Region      string
	Service     string
	// SessionToken is X-Amz-Security-Token, if present, as accepted by
	// Verifier.SessionToken.
	SessionToken  string
	SignedHeaders []string
	Presigned     bool
	// PayloadHash is what was signed as the payload hash: a hex SHA-256,
	// UNSIGNED-PAYLOAD or one of the STREAMING-* values.
	PayloadHash string
	// SigningKey is the derived key, for verifying aws-chunked signatures.
	SigningKey []byte
	// Signature is the request's (seed) signature, in hex.
	Signature string
	// Time is the request time (X-Amz-Date or Date).
	Time time.Time
}

// Verify checks the SigV4 signature of r, given in its Authorization header
// or as presigned query parameters. body is the full request body, already
// read by the caller; it may be nil or empty.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (*Result, error) {
	if r == nil {
		return nil, fmt.Errorf("no request: %w", ErrMissingAuth)
	}
	query, err := parseQuery(rawQuery(r))
	if err != nil {
		return nil, err
	}
	a, err := parseAuth(r, query)
	if err != nil {
		return nil, err
	}
	if err := v.checkTime(a); err != nil {
		return nil, err
	}
	if err := v.checkSessionToken(ctx, a); err != nil {
		return nil, err
	}
	declared, err := declaredPayloadHash(r)
	if err != nil {
		return nil, err
	}
	key, err := v.signingKey(ctx, a)
	if err != nil {
		return nil, err
	}
	payloadHash, err := v.match(r, a, query, key, v.payloadCandidates(a, declared, body))
	if err != nil {
		return nil, err
	}
	if err := checkBody(declared, body); err != nil {
		return nil, err
	}
	return newResult(a, payloadHash, key), nil
}

func (v *Verifier) checkSessionToken(ctx context.Context, a *auth) error {
	if a.sessionToken == "" {
		return nil
	}
	if v.SessionToken == nil {
		return fmt.Errorf("access key %s: %w", a.accessKeyID, ErrInvalidSessionToken)
	}
	return v.SessionToken(ctx, a.accessKeyID, a.sessionToken)
}

func rawQuery(r *http.Request) string {
	if r.URL == nil {
		return ""
	}
	return r.URL.RawQuery
}

func newResult(a *auth, payloadHash string, key []byte) *Result {
	return &Result{
		AccessKeyID:   a.accessKeyID,
		Date:          a.scopeDate,
		Region:        a.region,
		Service:       a.service,
		SessionToken:  a.sessionToken,
		SignedHeaders: a.headerNames,
		Presigned:     a.presigned,
		PayloadHash:   payloadHash,
		SigningKey:    key,
		Signature:     hex.EncodeToString(a.signature[:]),
		Time:          a.time,
	}
}

// checkTime rejects requests outside the allowed clock skew and expired
// presigned URLs.
func (v *Verifier) checkTime(a *auth) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	switch {
	case a.time.Sub(t) > skew:
		return fmt.Errorf("signature not yet current: %s is still later than %s (%s + %v): %w",
			a.amzDate, t.Add(skew).Format(amzDateLayout), t.Format(amzDateLayout), skew, ErrExpired)
	case a.presigned && t.Sub(a.time) > a.expires:
		return fmt.Errorf("request has expired: X-Amz-Date %s + X-Amz-Expires %v is before %s: %w",
			a.amzDate, a.expires, t.Format(amzDateLayout), ErrExpired)
	case !a.presigned && t.Sub(a.time) > skew:
		return fmt.Errorf("signature expired: %s is now earlier than %s (%s - %v): %w",
			a.amzDate, t.Add(-skew).Format(amzDateLayout), t.Format(amzDateLayout), skew, ErrExpired)
	}
	return nil
}

// declaredPayloadHash returns X-Amz-Content-Sha256, checking its form.
func declaredPayloadHash(r *http.Request) (string, error) {
	values := r.Header.Values("X-Amz-Content-Sha256")
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1:
		return "", malformed("request has more than one X-Amz-Content-Sha256 header")
	}
	switch v := values[0]; v {
	case UnsignedPayload, StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer:
		return v, nil
	default:
		if len(v) == 2*sha256.Size && isHex(v) {
			return v, nil
		}
		return "", malformed("x-amz-content-sha256 must be %s, a STREAMING-* value or a hex SHA-256, got %q", UnsignedPayload, truncate(v))
	}
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// payloadCandidates returns the payload hashes the client may have signed.
// A presigned URL without X-Amz-Content-Sha256 is signed with
// UNSIGNED-PAYLOAD by S3 clients and with the body hash by others.
func (v *Verifier) payloadCandidates(a *auth, declared string, body []byte) []string {
	if declared != "" {
		return []string{declared}
	}
	sum := sha256.Sum256(body)
	bodyHash := hex.EncodeToString(sum[:])
	switch {
	case !a.presigned:
		return []string{bodyHash}
	case v.S3:
		return []string{UnsignedPayload, bodyHash}
	default:
		return []string{bodyHash, UnsignedPayload}
	}
}

// signingKey looks up the secret and derives the signing key.
func (v *Verifier) signingKey(ctx context.Context, a *auth) ([]byte, error) {
	if v.Lookup == nil {
		return nil, errors.New("sigv4: Verifier.Lookup is not set")
	}
	secret, err := v.Lookup(ctx, a.accessKeyID)
	if err != nil {
		return nil, fmt.Errorf("looking up access key %q: %w", truncate(a.accessKeyID), err)
	}
	return SigningKey(secret, a.scopeDate, a.region, a.service), nil
}

// match compares the request's signature, in constant time, with the one
// computed for each canonical path and payload hash candidate, and returns
// the payload hash that matched.
func (v *Verifier) match(r *http.Request, a *auth, query []queryPair, key []byte, payloads []string) (string, error) {
	c := newCanonicalRequest(r, a, query)
	for _, path := range canonicalPaths(r, v.S3) {
		for _, ph := range payloads {
			if hmac.Equal(signature(key, a, c.hash(path, ph), c.buf), a.signature[:]) {
				return ph, nil
			}
		}
	}
	return "", fmt.Errorf("the request signature we calculated does not match the signature you provided; check your secret access key and signing method: %w", ErrSignatureMismatch)
}

// checkBody checks a hex X-Amz-Content-Sha256 against the body.
func checkBody(declared string, body []byte) error {
	if len(declared) != 2*sha256.Size || !isHex(declared) {
		return nil
	}
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(declared)); err != nil {
		return malformed("x-amz-content-sha256 is not hexadecimal")
	}
	if sha256.Sum256(body) != want {
		return fmt.Errorf("the provided x-amz-content-sha256 header does not match what was computed: %w", ErrPayloadHashMismatch)
	}
	return nil
}
