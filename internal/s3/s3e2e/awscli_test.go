package s3e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// cli runs the AWS CLI against an S3 server as one account.
type cli struct {
	t        *testing.T
	endpoint string
	env      []string
}

func newCLI(t *testing.T, endpoint string, u *user) *cli {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI is not installed (scripts/deps.sh installs it)")
	}
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "AWS_ACCESS_KEY_ID="+u.KeyID,
		"AWS_SECRET_ACCESS_KEY="+u.Secret, "AWS_DEFAULT_REGION="+controllertest.Region, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=")
	return &cli{t: t, endpoint: endpoint, env: env}
}

// run runs "aws --endpoint-url URL args..." and returns stdout; it fails
// the test on a non-zero exit.
func (c *cli) run(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.exec(args...)
	if err != nil {
		c.t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fail runs a command that must fail and returns its stderr.
func (c *cli) fail(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.exec(args...)
	if err == nil {
		c.t.Fatalf("aws %s succeeded: %s", strings.Join(args, " "), out)
	}
	return errOut
}

func (c *cli) exec(args ...string) (string, string, error) {
	start := time.Now()
	defer func() { c.t.Logf("%v aws %s", time.Since(start).Round(time.Millisecond), strings.Join(args, " ")) }()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.endpoint, "--output", "json"}, args...)...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func jsonField(t *testing.T, out, field string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return m[field]
}

func writeRandom(t *testing.T, path string, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

func fileSHA(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// TestAWSCLI runs the AWS CLI's s3 and s3api commands, unchanged, against
// the server. scripts/s3-walkthrough.sh does the same against kumo dev,
// with a 200 MiB file.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("the AWS CLI takes about a second per command")
	}
	e := start(t, storetest.Backends()[0])
	a, other := e.account(t, "team-a"), e.account(t, "team-b")
	aws, awsB := newCLI(t, e.URL, a), newCLI(t, e.URL, other)
	dir := t.TempDir()
	big, small := filepath.Join(dir, "big.bin"), filepath.Join(dir, "small.txt")
	writeRandom(t, big, 20<<20) // above the CLI's 8 MiB multipart threshold
	if err := os.WriteFile(small, []byte("hello from the aws cli\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	aws.run("s3", "mb", "s3://team-a-images")
	aws.run("s3", "cp", big, "s3://team-a-images/disk/big.bin")
	aws.run("s3", "cp", small, "s3://team-a-images/small.txt")
	if ls := aws.run("s3", "ls", "s3://team-a-images/"); !strings.Contains(ls, "PRE disk/") || !strings.Contains(ls, "small.txt") {
		t.Fatalf("s3 ls:\n%s", ls)
	}
	if ls := aws.run("s3", "ls", "--recursive", "s3://team-a-images"); !strings.Contains(ls, "20971520 disk/big.bin") {
		t.Fatalf("s3 ls --recursive:\n%s", ls)
	}
	aws.run("s3", "cp", "s3://team-a-images/disk/big.bin", filepath.Join(dir, "big.out"))
	if fileSHA(t, big) != fileSHA(t, filepath.Join(dir, "big.out")) {
		t.Fatal("the downloaded multipart object differs")
	}
	head := aws.run("s3api", "head-object", "--bucket", "team-a-images", "--key", "disk/big.bin")
	if etag := jsonField(t, head, "ETag").(string); !strings.HasSuffix(etag, `-3"`) {
		t.Fatalf("multipart ETag %s, want 3 parts of 8 MiB", etag)
	}

	aws.run("s3api", "put-object", "--bucket", "team-a-images", "--key", "api/put.txt", "--body", small,
		"--content-type", "text/plain", "--metadata", "team=a")
	aws.run("s3api", "get-object", "--bucket", "team-a-images", "--key", "api/put.txt", "--range", "bytes=0-4", filepath.Join(dir, "range.out"))
	if got, _ := os.ReadFile(filepath.Join(dir, "range.out")); string(got) != "hello" {
		t.Fatalf("get-object --range: %q", got)
	}
	head = aws.run("s3api", "head-object", "--bucket", "team-a-images", "--key", "api/put.txt")
	if jsonField(t, head, "ContentType") != "text/plain" || jsonField(t, head, "Metadata").(map[string]any)["team"] != "a" {
		t.Fatalf("head-object: %s", head)
	}
	list := aws.run("s3api", "list-objects-v2", "--bucket", "team-a-images", "--prefix", "api/")
	if contents, _ := jsonField(t, list, "Contents").([]any); len(contents) != 1 {
		t.Fatalf("list-objects-v2: %s", list)
	}
	aws.run("s3", "cp", "s3://team-a-images/small.txt", "s3://team-a-images/copied.txt")

	up := aws.run("s3api", "create-multipart-upload", "--bucket", "team-a-images", "--key", "api/mpu.bin")
	id := jsonField(t, up, "UploadId").(string)
	part := aws.run("s3api", "upload-part", "--bucket", "team-a-images", "--key", "api/mpu.bin", "--upload-id", id,
		"--part-number", "1", "--body", small)
	parts := `{"Parts":[{"PartNumber":1,"ETag":` + mustJSON(t, jsonField(t, part, "ETag")) + `}]}`
	aws.run("s3api", "complete-multipart-upload", "--bucket", "team-a-images", "--key", "api/mpu.bin", "--upload-id", id,
		"--multipart-upload", parts)
	del := aws.run("s3api", "delete-objects", "--bucket", "team-a-images", "--delete",
		`{"Objects":[{"Key":"api/mpu.bin"},{"Key":"copied.txt"}]}`)
	if n := len(jsonField(t, del, "Deleted").([]any)); n != 2 {
		t.Fatalf("delete-objects: %s", del)
	}

	url := strings.TrimSpace(aws.run("s3", "presign", "s3://team-a-images/small.txt", "--expires-in", "300"))
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello from the aws cli\n" {
		t.Fatalf("presigned URL: %d %q", resp.StatusCode, body)
	}

	checkCLIDenied(t, awsB, small, dir)

	aws.run("s3", "rm", "--recursive", "s3://team-a-images")
	aws.run("s3", "rb", "s3://team-a-images")
	if ls := aws.run("s3", "ls"); strings.Contains(ls, "team-a-images") {
		t.Fatalf("bucket still listed: %s", ls)
	}
}

// checkCLIDenied: another account's CLI is refused everywhere in
// team-a-images.
func checkCLIDenied(t *testing.T, awsB *cli, small, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"s3", "ls", "s3://team-a-images"},
		{"s3", "cp", "s3://team-a-images/small.txt", filepath.Join(dir, "stolen")},
		{"s3", "cp", small, "s3://team-a-images/planted"},
		{"s3", "rm", "s3://team-a-images/small.txt"},
		{"s3api", "get-object", "--bucket", "team-a-images", "--key", "small.txt", filepath.Join(dir, "stolen")},
		{"s3api", "delete-bucket", "--bucket", "team-a-images"},
	} {
		if msg := awsB.fail(args...); !strings.Contains(msg, "AccessDenied") && !strings.Contains(msg, "403") {
			t.Errorf("team-b aws %s: %s", strings.Join(args, " "), msg)
		}
	}
	if msg := awsB.fail("s3", "mb", "s3://team-a-images"); !strings.Contains(msg, "BucketAlreadyExists") {
		t.Errorf("team-b mb of a taken name: %s", msg)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
