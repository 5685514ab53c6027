package s3

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strings"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// crc64NVME is the CRC-64/NVME polynomial in the reversed form
// hash/crc64 takes.
const crc64NVME = 0x9a6c9329ac4bc9b5

// checksumHeaderPrefix starts the headers (and trailers) carrying a
// whole-object checksum: x-amz-checksum-crc32, -crc32c, -crc64nvme,
// -sha1, -sha256.
const checksumHeaderPrefix = "x-amz-checksum-"

// newChecksum returns the hash named by a checksum header, or nil when
// the algorithm is not one we compute.
func newChecksum(header string) hash.Hash {
	switch strings.TrimPrefix(strings.ToLower(header), checksumHeaderPrefix) {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "crc64nvme":
		return crc64.New(crc64.MakeTable(crc64NVME))
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

// digest is one expected digest of a body: Content-MD5 or a checksum,
// compared in base64 when the body ends.
type digest struct {
	name string // header name, for the error
	want string // base64, or lower-case hex when isHex
	h    hash.Hash
	// isHex: want is hex (X-Amz-Content-Sha256) rather than base64.
	isHex bool
}

func (d *digest) matches() bool {
	sum := d.h.Sum(nil)
	got := base64.StdEncoding.EncodeToString(sum)
	if d.isHex {
		got = hex.EncodeToString(sum)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(d.want)) == 1
}

// headerDigests returns the digests a request's headers promise:
// Content-MD5 and x-amz-checksum-*.
func headerDigests(h http.Header) ([]*digest, *Error) {
	var out []*digest
	if v := h.Get("Content-Md5"); v != "" {
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(raw) != md5.Size {
			return nil, apiError(ErrInvalidDigest, "")
		}
		out = append(out, &digest{name: "Content-MD5", want: v, h: md5.New()})
	}
	for name, values := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, checksumHeaderPrefix) || lower == "x-amz-checksum-type" || lower == "x-amz-checksum-algorithm" {
			continue
		}
		if hh := newChecksum(lower); hh != nil && len(values) > 0 {
			out = append(out, &digest{name: lower, want: values[0], h: hh})
		}
	}
	return out, nil
}

func checkDigests(ds []*digest) *Error {
	for _, d := range ds {
		if !d.matches() {
			return apiError(ErrBadDigest, "The %s you specified did not match the calculated checksum.", d.name)
		}
	}
	return nil
}

// setChecksumHeaders sends an object's stored checksum: x-amz-checksum-<alg>
// and x-amz-checksum-type FULL_OBJECT (a single PUT's checksum covers
// the whole object).
func setChecksumHeaders(h http.Header, c *backend.Checksum) {
	if c == nil || c.Algorithm == "" {
		return
	}
	h.Set(checksumHeaderPrefix+strings.ToLower(c.Algorithm), c.Value)
	h.Set("x-amz-checksum-type", "FULL_OBJECT")
}
