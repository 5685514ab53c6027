package s3e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/sigv4"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// chunkedPut builds a PUT whose body is aws-chunked with chained chunk
// signatures, as SDKs that stream over plain HTTP send it. With trailer,
// a CRC32 checksum follows in a signed trailer. tamper changes one byte of
// the encoded data after signing.
func chunkedPut(t *testing.T, u *user, url string, data []byte, chunk int, trailer, tamper bool) *http.Request {
	t.Helper()
	mode := sigv4.StreamingPayload
	if trailer {
		mode = sigv4.StreamingPayloadTrailer
	}
	now := time.Now().UTC()
	req, _ := http.NewRequest(http.MethodPut, url, nil)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Content-Sha256", mode)
	if trailer {
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: u.KeyID, SecretAccessKey: u.Secret}, req, mode, "s3", controllertest.Region, now); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	prev := auth[strings.Index(auth, "Signature=")+len("Signature="):]
	key := sigv4.SigningKey(u.Secret, now.Format("20060102"), controllertest.Region, "s3")
	prefix := "\n" + now.Format("20060102T150405Z") + "\n" + now.Format("20060102") + "/" + controllertest.Region + "/s3/aws4_request\n"
	sign := func(alg, rest string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(alg + prefix + prev + "\n" + rest))
		prev = hex.EncodeToString(m.Sum(nil))
		return prev
	}
	var body bytes.Buffer
	for off := 0; ; off += chunk {
		part := data[min(off, len(data)):min(off+chunk, len(data))]
		sum := sha256.Sum256(part)
		sig := sign("AWS4-HMAC-SHA256-PAYLOAD", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"+hex.EncodeToString(sum[:]))
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(part), sig)
		body.Write(part)
		if len(part) == 0 {
			break
		}
		body.WriteString("\r\n")
	}
	if trailer {
		crc := binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
		line := "x-amz-checksum-crc32:" + base64.StdEncoding.EncodeToString(crc)
		sum := sha256.Sum256([]byte(line + "\n"))
		body.WriteString(line + "\r\nx-amz-trailer-signature:" + sign("AWS4-HMAC-SHA256-TRAILER", hex.EncodeToString(sum[:])) + "\r\n")
	}
	body.WriteString("\r\n")
	raw := body.Bytes()
	if tamper {
		raw[len(raw)/2] ^= 1
	}
	req.Body = nopCloser{strings.NewReader(string(raw))}
	req.ContentLength = int64(len(raw))
	return req
}

func TestSignedChunkedUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a := e.account(t, "team-a")
		bucket := mkBucket(t, a, "chunked")
		data := bytes.Repeat([]byte("chunked data "), 20000) // 260 KB
		for _, trailer := range []bool{false, true} {
			key := fmt.Sprintf("signed-trailer-%v", trailer)
			status, c, body := do(t, chunkedPut(t, a, e.URL+"/"+bucket+"/"+key, data, 64<<10, trailer, false))
			if status != 200 {
				t.Fatalf("chunked PUT (trailer %v): %d %s %s", trailer, status, c, body)
			}
			if got := get(t, a.S3, bucket, key); !bytes.Equal(got, data) {
				t.Fatalf("chunked PUT (trailer %v) stored %d bytes", trailer, len(got))
			}
			head := must[*s3.HeadObjectOutput](t)(a.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key}))
			if head.ContentEncoding != nil {
				t.Fatalf("aws-chunked leaked into the object's Content-Encoding: %q", *head.ContentEncoding)
			}
			status, c, _ = do(t, chunkedPut(t, a, e.URL+"/"+bucket+"/tampered", data, 64<<10, trailer, true))
			if status != 403 && status != 400 {
				t.Fatalf("tampered chunked PUT (trailer %v): %d %s", trailer, status, c)
			}
			if _, err := a.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("tampered")}); code(err) != "NotFound" {
				t.Fatalf("a tampered upload left an object: %v", err)
			}
		}
	})
}

// TestUnsignedTrailerOverTLS: over HTTPS the Go SDK streams bodies as
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer.
func TestUnsignedTrailerOverTLS(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	bucket := mkBucket(t, a, "tls")
	ts := httptest.NewTLSServer(e.server)
	t.Cleanup(ts.Close)
	var seen string
	tr := ts.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // test server's own certificate
	client := newClient(ts.URL, a.KeyID, a.Secret, recordHash{tr, &seen}, func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	})
	data := bytes.Repeat([]byte("x"), 3<<20)
	unseekable := struct{ io.Reader }{bytes.NewReader(data)}
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: unseekable,
		ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		t.Fatal(err)
	}
	if seen != sigv4.StreamingUnsignedPayloadTrailer {
		t.Fatalf("the SDK sent X-Amz-Content-Sha256 %q; the test means to cover %s", seen, sigv4.StreamingUnsignedPayloadTrailer)
	}
	if got := get(t, client, bucket, "k"); !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes", len(got))
	}
}

type recordHash struct {
	next http.RoundTripper
	seen *string
}

func (r recordHash) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut {
		*r.seen = req.Header.Get("X-Amz-Content-Sha256")
	}
	return r.next.RoundTrip(req)
}

func TestChecksumMismatchIsRejected(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	bucket := mkBucket(t, a, "checksums")
	for name, header := range map[string][2]string{
		"Content-MD5":              {"Content-Md5", base64.StdEncoding.EncodeToString(make([]byte, 16))},
		"x-amz-checksum-crc32":     {"X-Amz-Checksum-Crc32", "AAAAAA=="},
		"x-amz-checksum-crc64nvme": {"X-Amz-Checksum-Crc64nvme", "AAAAAAAAAAA="},
		"x-amz-checksum-sha256":    {"X-Amz-Checksum-Sha256", base64.StdEncoding.EncodeToString(make([]byte, 32))},
	} {
		req, _ := http.NewRequest(http.MethodPut, e.URL+"/"+bucket+"/bad", strings.NewReader("payload"))
		req.Header.Set(header[0], header[1])
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		_ = signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: a.KeyID, SecretAccessKey: a.Secret}, req, "UNSIGNED-PAYLOAD", "s3", controllertest.Region, time.Now())
		if status, c, _ := do(t, req); status != 400 || c != "BadDigest" {
			t.Errorf("%s mismatch: %d %s", name, status, c)
		}
	}
	if _, err := a.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("bad")}); code(err) != "NotFound" {
		t.Fatalf("a body with a bad digest was stored: %v", err)
	}
}

// TestSDKChecksumHeaders: every checksum algorithm the SDK offers is
// verified by the server when sent as a header.
func TestSDKChecksumHeaders(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	bucket := mkBucket(t, a, "sdk-checksums")
	var sent http.Header
	client := newClient(e.URL, a.KeyID, a.Secret, recordHeaders{http.DefaultTransport, &sent})
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
		types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
		_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(string(alg)),
			Body: strings.NewReader("checksummed " + string(alg)), ChecksumAlgorithm: alg})
		if err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		if sent.Get("X-Amz-Checksum-"+string(alg)) == "" {
			t.Errorf("%s: the SDK sent no checksum header: %v", alg, sent)
		}
	}
}

type recordHeaders struct {
	next http.RoundTripper
	sent *http.Header
}

func (r recordHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	*r.sent = req.Header.Clone()
	return r.next.RoundTrip(req)
}
