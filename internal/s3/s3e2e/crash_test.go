package s3e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestDroppedUploadLeavesNothing: a PUT whose connection closes halfway
// (a client crash, a network cut) leaves no object, nothing in listings,
// no temporary file, and does not disturb an existing object of that key.
func TestDroppedUploadLeavesNothing(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	ctx := context.Background()
	bucket := mkBucket(t, a, "crash")
	put(t, a.S3, bucket, "kept", []byte("old version"))
	tmp := filepath.Join(e.ctl.DataDir, "objects", "tmp")
	for _, key := range []string{"new", "kept"} {
		req := signedRequestHash(t, a.KeyID, a.Secret, "PUT", e.URL+"/"+bucket+"/"+key, nil, "UNSIGNED-PAYLOAD", time.Now())
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		var head bytes.Buffer
		fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.URL.RequestURI(), req.Host, 10<<20)
		for k, v := range req.Header {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v[0])
		}
		head.WriteString("\r\n")
		if _, err := conn.Write(head.Bytes()); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(bytes.Repeat([]byte("p"), 1<<20)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the upload to reach a temporary file", func() bool {
			entries, _ := os.ReadDir(tmp)
			return len(entries) > 0
		})
		conn.Close()
	}
	waitFor(t, "temporary files to go", func() bool {
		entries, _ := os.ReadDir(tmp)
		return len(entries) == 0
	})
	if _, err := a.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("new")}); code(err) != "NotFound" {
		t.Fatalf("a dropped upload created an object: %v", err)
	}
	if got := get(t, a.S3, bucket, "kept"); string(got) != "old version" {
		t.Fatalf("a dropped upload changed an object: %q", got)
	}
	list := must[*s3.ListObjectsV2Output](t)(a.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket}))
	if len(list.Contents) != 1 || *list.Contents[0].Key != "kept" {
		t.Fatalf("listing after dropped uploads: %+v", list.Contents)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
