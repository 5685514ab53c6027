package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/admin"
	"github.com/kumo-cloud/kumo/internal/e2etest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDataDirIsPrivate reproduces issue 11: kumo.db was created 0644 when
// the data dir already existed (as after `mkdir data`). A real `kumo
// server` process, run under the usual umask 022 on an existing 0755 data
// dir, now leaves every file there 0600 and every directory 0700: the
// database and its WAL, the node CA's key and certificate, the admin
// credential, the secrets key and the object store.
func TestDataDirIsPrivate(t *testing.T) {
	bin := e2etest.MustBuild(t, t.TempDir())
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	adminAddr, s3Addr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "server", "--data-dir", dir, "--ec2-listen", freeAddr(t), "--admin-listen", adminAddr,
		"--s3-listen", s3Addr, "--node-listen", freeAddr(t))
	log, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + adminAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("server did not start: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := run(t, "admin", "--data-dir", dir, "account", "create", "team-a", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var a admin.CreatedAccount
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(aws.Config{Region: "kumo-1", Credentials: credentials.NewStaticCredentialsProvider(a.AccessKeyId, a.SecretAccessKey, "")},
		func(o *s3.Options) { o.BaseEndpoint = aws.String("http://" + s3Addr); o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("private")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String("a/b"), Body: strings.NewReader("secret")}); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()

	var bad []string
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if info.Mode().Perm() != want {
			bad = append(bad, fmt.Sprintf("%s: %v, want %v", strings.TrimPrefix(path, dir), info.Mode().Perm(), want))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Fatalf("only %d files in the data dir: the server wrote nothing?", files)
	}
	if len(bad) > 0 {
		t.Errorf("files and directories others can read:\n%s", strings.Join(bad, "\n"))
	}
}
