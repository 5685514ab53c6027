package s3

import (
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/sigv4"
)

// MaxObjectSize is the largest single PUT or part, as S3's 5 GiB.
const MaxObjectSize = 5 << 30

// body is an object body streamed to the backend. It yields exactly size
// bytes, and yields the last of them only once the whole stream has
// checked out: chunk signatures, trailer, length, Content-MD5, checksums
// and a hex X-Amz-Content-Sha256. Any failure comes back from Read
// instead, so a backend (which commits only a body read to its end
// without error) never stores an unverified object. err keeps the first
// failure for the response.
type body struct {
	r       io.Reader
	size    int64
	read    int64
	digests []*digest
	err     *Error
	done    bool
	// checksum, when set, receives the verified x-amz-checksum-* value
	// once the body checks out.
	checksum *backend.Checksum
}

// newBody sets up the checks for r's body from its headers and what
// authentication established.
func newBody(r *http.Request, auth authResult) (*body, *Error) {
	digests, aerr := headerDigests(r.Header)
	if aerr != nil {
		return nil, aerr
	}
	b := &body{r: r.Body, digests: digests}
	hashMode := auth.payloadHash
	switch hashMode {
	case sigv4.StreamingPayload, sigv4.StreamingPayloadTrailer, sigv4.StreamingUnsignedPayloadTrailer:
		return b.chunked(r, auth)
	}
	if r.ContentLength < 0 {
		return nil, apiError(ErrMissingContentLength, "")
	}
	b.size = r.ContentLength
	if isHexSHA256(hashMode) {
		b.digests = append(b.digests, &digest{name: "x-amz-content-sha256", want: strings.ToLower(hashMode), h: sha256.New(), isHex: true})
	}
	return b, b.checkSize()
}

// chunked sets up an aws-chunked body: the decoded length comes from
// X-Amz-Decoded-Content-Length and trailer checksums from X-Amz-Trailer.
func (b *body) chunked(r *http.Request, auth authResult) (*body, *Error) {
	n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return nil, apiError(ErrMissingContentLength, "An aws-chunked body needs the X-Amz-Decoded-Content-Length header.")
	}
	b.size = n
	var trailerDigests []*digest
	for _, name := range strings.Split(r.Header.Get("X-Amz-Trailer"), ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if h := newChecksum(name); h != nil && strings.HasPrefix(name, checksumHeaderPrefix) {
			trailerDigests = append(trailerDigests, &digest{name: name, h: h})
		}
	}
	b.digests = append(b.digests, trailerDigests...)
	var signer *chunkSigner
	if auth.payloadHash != sigv4.StreamingUnsignedPayloadTrailer {
		if auth.sig == nil {
			return nil, apiError(ErrAccessDenied, "A signed aws-chunked body needs a signed request.")
		}
		res := auth.sig
		signer = &chunkSigner{key: res.SigningKey, amzDate: res.Time.UTC().Format("20060102T150405Z"),
			scope: res.Date + "/" + res.Region + "/" + res.Service + "/aws4_request", prev: res.Signature}
	}
	trailer := auth.payloadHash != sigv4.StreamingPayload
	b.r = newChunkedReader(r.Body, signer, trailer, trailerDigests)
	return b, b.checkSize()
}

func (b *body) checkSize() *Error {
	if b.size > MaxObjectSize {
		return apiError(ErrEntityTooLarge, "Your proposed upload of %d bytes exceeds the maximum of %d.", b.size, int64(MaxObjectSize))
	}
	return nil
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.done {
		return 0, io.EOF
	}
	if b.read == b.size {
		return 0, b.finish()
	}
	n, err := b.r.Read(p[:min(int64(len(p)), b.size-b.read)])
	for _, d := range b.digests {
		d.h.Write(p[:n])
	}
	b.read += int64(n)
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		return 0, b.fail(err)
	case b.read == b.size:
		if err := b.finish(); err != io.EOF {
			return 0, err
		}
		return n, io.EOF
	case errors.Is(err, io.EOF):
		return 0, b.fail(io.ErrUnexpectedEOF)
	}
	return n, nil
}

// finish runs once all size bytes are read: the stream must end there,
// and every digest must match. It returns io.EOF when all is well.
func (b *body) finish() error {
	var probe [1]byte
	n, err := b.r.Read(probe[:])
	for err == nil && n == 0 {
		n, err = b.r.Read(probe[:])
	}
	if n > 0 {
		return b.fail(apiError(ErrIncompleteBody, "The request body is longer than its declared length of %d bytes.", b.size))
	}
	if !errors.Is(err, io.EOF) {
		return b.fail(err)
	}
	for _, d := range b.digests {
		if d.matches() {
			continue
		}
		if d.name == "x-amz-content-sha256" {
			return b.fail(apiError(ErrContentSHA256Mismatch, ""))
		}
		return b.fail(checkDigests([]*digest{d}))
	}
	b.done = true
	b.recordChecksum()
	return io.EOF
}

// recordChecksum hands the verified checksum (S3 takes one per request)
// to the object's metadata.
func (b *body) recordChecksum() {
	if b.checksum == nil {
		return
	}
	for _, d := range b.digests {
		if alg, ok := strings.CutPrefix(d.name, checksumHeaderPrefix); ok {
			*b.checksum = backend.Checksum{Algorithm: strings.ToUpper(alg), Value: d.want}
			return
		}
	}
}

// fail records the first failure, mapped to an S3 error.
func (b *body) fail(err error) *Error {
	if b.err != nil {
		return b.err
	}
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, errChunkSignature):
		e = &Error{Code: ErrSignatureDoesNotMatch, Message: "The chunk signature we calculated does not match the signature you provided.", Cause: err}
	case errors.Is(err, errChunkFraming):
		e = &Error{Code: ErrIncompleteBody, Message: "The aws-chunked body is malformed.", Cause: err}
	default:
		e = &Error{Code: ErrIncompleteBody, Cause: err}
	}
	b.err = e
	return e
}
