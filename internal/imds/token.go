package imds

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Session tokens are stateless: a version byte, the expiry (Unix seconds),
// and an HMAC-SHA256 over the instance id and that expiry. They survive an
// agent restart that keeps the key, and fail for any other instance.
const (
	tokenVersion = 1
	tokenMACLen  = sha256.Size
	tokenLen     = 1 + 8 + tokenMACLen
	minKeyLen    = 16
	// MaxTokenTTL is the longest session AWS grants: six hours.
	MaxTokenTTL = 21600 * time.Second
)

// NewTokenKey returns a random key for Server.TokenKey. Keep it across
// agent restarts so that guests' tokens stay valid.
func NewTokenKey() ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

func tokenMAC(key []byte, instanceID string, expiry []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kumo-imds-token\x00"))
	m.Write([]byte(instanceID))
	m.Write([]byte{0})
	m.Write(expiry)
	return m.Sum(nil)
}

// mintToken makes a token for instanceID valid until exp.
func mintToken(key []byte, instanceID string, exp time.Time) string {
	b := make([]byte, 1, tokenLen)
	b[0] = tokenVersion
	b = binary.BigEndian.AppendUint64(b, uint64(exp.Unix()))
	b = append(b, tokenMAC(key, instanceID, b[1:9])...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validToken reports whether tok was minted with key for instanceID and has
// not expired at now.
func validToken(key []byte, instanceID, tok string, now time.Time) bool {
	if len(key) < minKeyLen || len(tok) != base64.RawURLEncoding.EncodedLen(tokenLen) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != tokenLen || b[0] != tokenVersion {
		return false
	}
	if !hmac.Equal(b[9:], tokenMAC(key, instanceID, b[1:9])) {
		return false
	}
	exp := int64(binary.BigEndian.Uint64(b[1:9]))
	return now.Unix() < exp
}
