package s3e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// The S3 benchmarks put and get objects through the API (real HTTP on
// loopback, SigV4, the AWS SDK, the local-disk backend on SQLite) and do
// the same on the file system beside them: "fs" is os.WriteFile and
// os.ReadFile, "fs-durable" writes as the disk backend does (temporary
// file, fsync, rename, directory fsync). b.SetBytes makes each report MB/s.

func BenchmarkPut4K(b *testing.B)  { benchPut(b, 4<<10) }
func BenchmarkGet4K(b *testing.B)  { benchGet(b, 4<<10) }
func BenchmarkPut64M(b *testing.B) { benchPut(b, 64<<20) }
func BenchmarkGet64M(b *testing.B) { benchGet(b, 64<<20) }

func randomBytes(n int) []byte {
	data := make([]byte, n)
	_, _ = rand.Read(data)
	return data
}

// benchServer starts a server and returns a client and a bucket.
func benchServer(b *testing.B) (*s3.Client, string) {
	e := start(b, storetest.Backends()[0])
	u := e.account(b, "bench")
	return u.S3, mkBucket(b, u, "bench")
}

// names is how many keys a put benchmark cycles through: enough to avoid
// rewriting one file, few enough for big objects not to fill the disk.
func names(size int) int {
	if size > 1<<20 {
		return 2
	}
	return 16
}

func benchPut(b *testing.B, size int) {
	data, n := randomBytes(size), names(size)
	b.Run("s3", func(b *testing.B) {
		client, bucket := benchServer(b)
		ctx := context.Background()
		b.SetBytes(int64(size))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(fmt.Sprintf("obj-%d", i%n)), Body: bytes.NewReader(data)})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fs", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(int64(size))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("obj-%d", i%n)), data, 0o600); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fs-durable", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(int64(size))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := writeDurable(dir, fmt.Sprintf("obj-%d", i%n), data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// writeDurable writes as the disk backend does.
func writeDurable(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func benchGet(b *testing.B, size int) {
	data := randomBytes(size)
	b.Run("s3", func(b *testing.B) {
		client, bucket := benchServer(b)
		ctx := context.Background()
		put(b, client, bucket, "obj", data)
		buf := make([]byte, 1<<20) // read as the AWS CLI does, in large blocks
		sink := struct{ io.Writer }{io.Discard}
		b.SetBytes(int64(size))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("obj")})
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(sink, out.Body, buf)
			out.Body.Close()
			if err != nil || n != int64(size) {
				b.Fatalf("read %d bytes: %v", n, err)
			}
		}
	})
	b.Run("fs", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "obj")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(size))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			got, err := os.ReadFile(path)
			if err != nil || len(got) != size {
				b.Fatalf("read %d bytes: %v", len(got), err)
			}
		}
	})
}
