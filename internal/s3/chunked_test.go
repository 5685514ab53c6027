package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/sigv4"
)

// The example in AWS's "Signature Calculations for the Authorization
// Header: Transferring Payload in Multiple Chunks": 65 KiB of 'a' in
// chunks of 64 KiB, 1 KiB and 0, with the signatures AWS publishes.
const (
	docSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docSeed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)

var docChunkSigs = []string{
	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
}

func docSigner() *chunkSigner {
	return &chunkSigner{key: sigv4.SigningKey(docSecret, "20130524", "us-east-1", "s3"),
		amzDate: "20130524T000000Z", scope: "20130524/us-east-1/s3/aws4_request", prev: docSeed}
}

// docBody encodes the example's chunks with the given signatures.
func docBody(sigs []string) []byte {
	var b bytes.Buffer
	for i, n := range []int{65536, 1024, 0} {
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", n, sigs[i])
		b.Write(bytes.Repeat([]byte("a"), n))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func TestChunkSignaturesMatchAWSExample(t *testing.T) {
	r := newChunkedReader(bytes.NewReader(docBody(docChunkSigs)), docSigner(), false, nil)
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding AWS's example: %v", err)
	}
	if len(data) != 66560 || strings.Trim(string(data), "a") != "" {
		t.Fatalf("decoded %d bytes", len(data))
	}
}

func TestChunkedReaderRejects(t *testing.T) {
	tampered := docBody(docChunkSigs)
	tampered[200] = 'b'
	swapped := docBody([]string{docChunkSigs[1], docChunkSigs[0], docChunkSigs[2]})
	truncated := docBody(docChunkSigs)[:66000]
	noFinal := docBody(docChunkSigs)
	noFinal = noFinal[:bytes.LastIndex(noFinal, []byte("0;chunk"))]
	for name, body := range map[string][]byte{"tampered data": tampered, "swapped signatures": swapped,
		"truncated": truncated, "no final chunk": noFinal, "garbage header": []byte("zz;chunk-signature=x\r\n")} {
		_, err := io.ReadAll(newChunkedReader(bytes.NewReader(body), docSigner(), false, nil))
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUnsignedTrailer(t *testing.T) {
	d := &digest{name: "x-amz-checksum-crc32", h: newChecksum("x-amz-checksum-crc32")}
	body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
	data, err := io.ReadAll(newChunkedReader(strings.NewReader(body), nil, true, []*digest{d}))
	if err != nil || string(data) != "hello" {
		t.Fatalf("got %q, %v", data, err)
	}
	d.h.Write(data)
	if d.want != "NhCmhg==" || !d.matches() {
		t.Fatalf("trailer checksum %q does not verify", d.want)
	}
}

// TestBodyHoldsBackTheLastByte: a consumer that reads exactly the declared
// length still gets the verification error, never a clean end.
func TestBodyHoldsBackTheLastByte(t *testing.T) {
	raw := []byte("hello world")
	b := &body{r: bytes.NewReader(raw), size: int64(len(raw)),
		digests: []*digest{{name: "x-amz-content-sha256", want: strings.Repeat("0", 64), h: sha256New(), isHex: true}}}
	buf := make([]byte, len(raw))
	n, err := io.ReadFull(b, buf)
	if err == nil || b.err == nil || b.err.Code != ErrContentSHA256Mismatch {
		t.Fatalf("read %d bytes, err %v, recorded %v", n, err, b.err)
	}
	if n == len(raw) {
		t.Fatal("the whole body was handed out before the check")
	}
	long := &body{r: strings.NewReader("too long"), size: 3}
	if _, err := io.ReadAll(long); !errors.As(err, new(*Error)) {
		t.Fatalf("longer body: %v", err)
	}
}
