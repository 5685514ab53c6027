package s3

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strconv"
	"strings"
)

// aws-chunked framing (Content-Encoding: aws-chunked), as S3 clients send
// it when X-Amz-Content-Sha256 is one of the STREAMING-* values:
//
//	<hex size>;chunk-signature=<sig>\r\n<data>\r\n   (signed)
//	<hex size>\r\n<data>\r\n                         (unsigned)
//	... a chunk of size 0 ends the data, then, with -TRAILER,
//	<name>:<value>\r\n ... [x-amz-trailer-signature:<sig>\r\n] \r\n
//
// Each signed chunk's signature chains from the previous one, starting at
// the request's seed signature, so chunks cannot be dropped, reordered or
// altered.
const (
	maxChunkLine = 4096
	maxTrailers  = 16
	emptySHA256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// chunkSigner computes the chained signatures of a signed stream.
type chunkSigner struct {
	key     []byte
	amzDate string // request time, yyyymmddThhmmssZ
	scope   string // date/region/service/aws4_request
	prev    string // previous signature, hex
}

func (s *chunkSigner) sign(algorithm string, parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(algorithm + "\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev))
	for _, p := range parts {
		m.Write([]byte("\n" + p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// next checks sig as the signature of the chunk whose data hashed to sum.
func (s *chunkSigner) next(sig string, sum []byte) bool {
	want := s.sign("AWS4-HMAC-SHA256-PAYLOAD", emptySHA256, hex.EncodeToString(sum))
	s.prev = sig
	return hmac.Equal([]byte(want), []byte(sig))
}

// trailer checks the signature over the canonical trailer lines.
func (s *chunkSigner) trailer(sig string, canonical []byte) bool {
	sum := sha256.Sum256(canonical)
	want := s.sign("AWS4-HMAC-SHA256-TRAILER", hex.EncodeToString(sum[:]))
	return hmac.Equal([]byte(want), []byte(sig))
}

var (
	errChunkFraming   = errors.New("malformed aws-chunked body")
	errChunkSignature = errors.New("chunk signature does not match")
)

// chunkedReader decodes an aws-chunked body, verifying chunk signatures
// (when signer is set) and reading the trailer, whose checksum values it
// hands to the matching digests.
type chunkedReader struct {
	br       *bufio.Reader
	signer   *chunkSigner
	trailer  bool
	digests  []*digest // the x-amz-trailer checksums; want is filled from the trailer
	left     int64     // bytes left in the current chunk
	sig      string    // the current chunk's signature
	sum      hash.Hash // the current chunk's SHA-256 (signed only)
	finished bool
	err      error
}

func newChunkedReader(body io.Reader, signer *chunkSigner, trailer bool, trailerDigests []*digest) *chunkedReader {
	c := &chunkedReader{br: bufio.NewReaderSize(body, 64<<10), signer: signer, trailer: trailer, digests: trailerDigests}
	if signer != nil {
		c.sum = sha256.New()
	}
	return c
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	for c.err == nil && c.left == 0 && !c.finished {
		c.err = c.header()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.finished {
		return 0, io.EOF
	}
	n, err := c.br.Read(p[:min(int64(len(p)), c.left)])
	if c.sum != nil {
		c.sum.Write(p[:n])
	}
	c.left -= int64(n)
	switch {
	case errors.Is(err, io.EOF) && c.left > 0:
		c.err = io.ErrUnexpectedEOF
	case err != nil && !errors.Is(err, io.EOF):
		c.err = err
	case c.left == 0:
		c.err = c.endChunk()
	}
	return n, nil
}

// header reads a chunk header; a zero-size chunk ends the data.
func (c *chunkedReader) header() error {
	line, err := c.line()
	if err != nil {
		return err
	}
	sizeText, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
	if err != nil || size < 0 {
		return errChunkFraming
	}
	c.left = size
	if c.signer != nil {
		sig, ok := strings.CutPrefix(ext, "chunk-signature=")
		if !ok || len(sig) != 64 {
			return errChunkFraming
		}
		c.sig = sig
		c.sum.Reset()
	}
	if size == 0 {
		return c.finish()
	}
	return nil
}

// endChunk reads the CRLF after a chunk's data and checks its signature.
func (c *chunkedReader) endChunk() error {
	if line, err := c.line(); err != nil || line != "" {
		return errChunkFraming
	}
	if c.signer != nil && !c.signer.next(c.sig, c.sum.Sum(nil)) {
		return errChunkSignature
	}
	return nil
}

// finish checks the final chunk's signature and reads the trailer.
func (c *chunkedReader) finish() error {
	if c.signer != nil && !c.signer.next(c.sig, c.sum.Sum(nil)) {
		return errChunkSignature
	}
	if c.trailer {
		if err := c.readTrailer(); err != nil {
			return err
		}
	} else if line, err := c.line(); err != nil || line != "" {
		return errChunkFraming
	}
	c.finished = true
	return nil
}

// readTrailer reads name:value lines up to an empty line.
func (c *chunkedReader) readTrailer() error {
	var canonical bytes.Buffer
	sig := ""
	for i := 0; ; i++ {
		line, err := c.line()
		if err != nil || i > maxTrailers {
			return errChunkFraming
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return errChunkFraming
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			sig = value
			continue
		}
		canonical.WriteString(name + ":" + value + "\n")
		for _, d := range c.digests {
			if d.name == name {
				d.want = value
			}
		}
	}
	if c.signer != nil && !c.signer.trailer(sig, canonical.Bytes()) {
		return errChunkSignature
	}
	return nil
}

// line reads one CRLF-terminated line (a bare LF is tolerated).
func (c *chunkedReader) line() (string, error) {
	var buf []byte
	for {
		part, err := c.br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > maxChunkLine {
			return "", errChunkFraming
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(buf), "\n"), "\r"), nil
}
