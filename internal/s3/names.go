package s3

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// SystemBucket is the backend bucket the controller keeps its own objects
// in (snapshot chunks, image manifests). No account owns it, the S3 API
// never serves it, and CreateBucket refuses the name.
const SystemBucket = "kumo-system"

// MaxKeyLength is S3's limit on key length in bytes.
const MaxKeyLength = 1024

// checkBucketName applies S3's rules for new bucket names: 3-63 lower-case
// letters, digits, dots and hyphens, starting and ending with a letter or
// digit, no "..", not an IP address, none of the reserved affixes.
func checkBucketName(name string) *Error {
	bad := func(why string) *Error {
		return apiError(ErrInvalidBucketName, "The specified bucket is not valid: %s.", why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("bucket names must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return bad("bucket names may hold only lower-case letters, digits, '.' and '-'")
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return bad("bucket names must start and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("bucket names must not contain two adjacent periods")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("bucket names must not be IP addresses")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("bucket names must not start with " + p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", "--x-s3"} {
		if strings.HasSuffix(name, s) {
			return bad("bucket names must not end with " + s)
		}
	}
	return nil
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// checkKey accepts keys of 1 to 1024 bytes of UTF-8.
func checkKey(key string) *Error {
	switch {
	case key == "":
		return apiError(ErrInvalidArgument, "The object key must not be empty.")
	case len(key) > MaxKeyLength:
		return apiError(ErrKeyTooLong, "Your key is too long: %d bytes, the limit is %d.", len(key), MaxKeyLength)
	case !utf8.ValidString(key):
		return apiError(ErrInvalidArgument, "Object keys must be UTF-8.")
	}
	return nil
}
