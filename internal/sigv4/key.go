package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// SigningKey derives the SigV4 signing key for a secret and credential scope
// (date in yyyymmdd form):
//
//	HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
func SigningKey(secret, date, region, service string) []byte {
	// One buffer holds each key in turn: hmac.New copies its key, so the
	// next key can be written over the previous one.
	key := make([]byte, 0, max(len("AWS4")+len(secret), sha256.Size))
	key = append(append(key, "AWS4"...), secret...)
	var scratch []byte
	for _, data := range [...]string{date, region, service, scopeTerminal} {
		h := hmac.New(sha256.New, key)
		scratch = append(scratch[:0], data...)
		h.Write(scratch)
		key = h.Sum(key[:0])
	}
	return key
}

// signature returns the SigV4 signature of a canonical request hash,
// using buf as scratch space for the string to sign.
func signature(key []byte, a *auth, canonicalHash [sha256.Size]byte, buf []byte) []byte {
	b := append(buf[:0], algorithm+"\n"...)
	b = append(b, a.amzDate...)
	b = append(b, '\n')
	b = append(b, a.scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, canonicalHash[:])
	h := hmac.New(sha256.New, key)
	h.Write(b)
	return h.Sum(b[:0])
}
