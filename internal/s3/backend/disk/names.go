package disk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// File names inside a bucket directory. A key becomes "o" followed by the
// key with every byte outside [A-Za-z0-9._-] written as %XX, so a name is
// always one path element of plain ASCII and never "." or "..". A key
// whose encoding would pass maxEncoded becomes "h" and the SHA-256 of the
// key; the key itself is then read from the object's trailer.
const (
	prefixObject = "o"
	prefixHashed = "h"
	maxEncoded   = 200 // well under NAME_MAX (255)
)

// fileName maps a key to its file name in the bucket directory.
func fileName(key string) string {
	var b strings.Builder
	b.WriteString(prefixObject)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if safeByte(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
		if b.Len() > maxEncoded {
			sum := sha256.Sum256([]byte(key))
			return prefixHashed + hex.EncodeToString(sum[:])
		}
	}
	return b.String()
}

func safeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// decodeName returns the key of an "o" file name; ok is false for names
// that are not plain-encoded objects.
func decodeName(name string) (string, bool) {
	if !strings.HasPrefix(name, prefixObject) {
		return "", false
	}
	enc := name[len(prefixObject):]
	out := make([]byte, 0, len(enc))
	for i := 0; i < len(enc); i++ {
		if enc[i] != '%' {
			out = append(out, enc[i])
			continue
		}
		if i+2 >= len(enc) {
			return "", false
		}
		v, err := hex.DecodeString(enc[i+1 : i+3])
		if err != nil {
			return "", false
		}
		out = append(out, v[0])
		i += 2
	}
	return string(out), true
}

// checkBucket refuses bucket names that are not one safe path element.
// The S3 front end validates names far more strictly; this is the
// backend's own guard so no caller can reach outside the root.
func checkBucket(bucket string) error {
	if bucket == "" || bucket == "." || bucket == ".." || len(bucket) > 255 ||
		strings.ContainsAny(bucket, "/\\\x00") {
		return fmt.Errorf("bucket name %q: %w", bucket, backend.ErrInvalidName)
	}
	return nil
}

// checkUploadID accepts only the ids this backend makes (32 hex digits).
func checkUploadID(id string) error {
	if len(id) != 32 {
		return fmt.Errorf("upload %q: %w", id, backend.ErrNoSuchUpload)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return fmt.Errorf("upload %q: %w", id, backend.ErrNoSuchUpload)
	}
	return nil
}
