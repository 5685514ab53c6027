package imds

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const demoLib = "../../images/demo/rootfs/lib/kumo-demo/lib.sh"

// TestDemoTokenExchange sends the demo guest's hand-written HTTP/1.0 PUT
// (lib.sh's imds_token, sent with nc) and reads the answer as it does:
// status from the first line, token = body after the blank line.
func TestDemoTokenExchange(t *testing.T) {
	ts := httptest.NewServer(newServer(fixed(fullInstance()), nil))
	defer ts.Close()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "PUT /latest/api/token HTTP/1.0\r\nHost: 169.254.169.254\r\n"+
		"User-Agent: kumo-demo\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\n")
	resp, err := io.ReadAll(conn) // nc reads until the server closes
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := strings.Cut(strings.ReplaceAll(string(resp), "\r", ""), "\n\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.") || strings.Fields(head)[1] != "200" {
		t.Fatalf("response %q", resp)
	}
	tok := strings.ReplaceAll(body, "\n", "")
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/latest/meta-data/instance-id", nil)
	req.Header.Set("X-aws-ec2-metadata-token", tok)
	got, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	id, _ := io.ReadAll(bufio.NewReader(got.Body))
	if got.StatusCode != 200 || string(id) != "i-0a1b2c3d4e5f60718" {
		t.Errorf("GET with the demo's token: %d %q", got.StatusCode, id)
	}
}

// TestDemoLibWithBusybox runs the demo guest's own lib.sh functions under
// busybox (nc, wget) against the service: token, IMDSv2 GETs, renewal after
// a 401, the 404 of a missing key, and IMDSv1 when the PUT is refused.
func TestDemoLibWithBusybox(t *testing.T) {
	bin := busyboxPath(t)
	lib, err := os.ReadFile(demoLib)
	if err != nil {
		t.Skipf("demo image sources: %v", err)
	}
	dir := t.TempDir()
	script := strings.Replace(string(lib), "KD_RUN=/run/kumo-demo", "KD_RUN="+dir+"/run", 1)
	if err := os.WriteFile(filepath.Join(dir, "lib.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(newServer(fixed(fullInstance()), nil))
	defer ts.Close()
	out := runDemo(t, bin, dir, ts.Listener.Addr().(*net.TCPAddr).Port, demoScript)
	want := "v2 i-0a1b2c3d4e5f60718\nkey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk k1\n" +
		"user-data #!/bin/sh|echo hello|\nrenewed i-0a1b2c3d4e5f60718\nmissing 404\n"
	if out != want {
		t.Errorf("demo lib.sh:\n got %q\nwant %q", out, want)
	}
}

// demoScript drives lib.sh as /etc/kumo-demo/boot does, with the debugging
// address kumo.imds=HOST:PORT would set.
const demoScript = `
. "$DIR/lib.sh"
IMDS_HOST=127.0.0.1 IMDS_PORT=$PORT IMDS_URL=http://127.0.0.1:$PORT
tok=$(imds_token) || { echo "put $IMDS_STATUS"; exit 1; }
printf '%s' "$tok" >"$IMDS_TOKEN_FILE"
imds_get meta-data/instance-id "$DIR/id" && echo "v2 $(cat "$DIR/id")"
imds_get meta-data/public-keys/0/openssh-key "$DIR/key" && echo "key $(cat "$DIR/key")"
imds_get user-data "$DIR/ud" && echo "user-data $(tr '\n' '|' <"$DIR/ud")"
printf 'AQ-bogus-token' >"$IMDS_TOKEN_FILE"
imds_get meta-data/instance-id "$DIR/id2" && echo "renewed $(cat "$DIR/id2")"
imds_get meta-data/nothing "$DIR/x" || echo "missing $IMDS_STATUS"
`

func busyboxPath(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed")
	}
	return bin
}

// runDemo runs script with busybox's applets first on PATH.
func runDemo(t *testing.T, bin, dir string, port int, script string) string {
	t.Helper()
	apps := filepath.Join(dir, "bin")
	if err := os.Mkdir(apps, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"sh", "nc", "wget", "timeout", "tr", "sed", "head", "cat", "mv", "rm", "mkdir", "cut"} {
		if err := os.Symlink(bin, filepath.Join(apps, app)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "sh", "-c", script)
	cmd.Env = []string{"PATH=" + apps, "DIR=" + dir, "PORT=" + strconv.Itoa(port), "HOME=" + dir}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("busybox sh: %v\n%s", err, out)
	}
	return string(out)
}

// TestDemoLibIMDSv1 is the demo's fallback: the PUT is refused (here by a
// server without a usable key), token-less GETs work, and a missing key and
// missing user-data answer 404 ("public-key none", "user-data none").
func TestDemoLibIMDSv1(t *testing.T) {
	bin := busyboxPath(t)
	lib, err := os.ReadFile(demoLib)
	if err != nil {
		t.Skipf("demo image sources: %v", err)
	}
	dir := t.TempDir()
	script := strings.Replace(string(lib), "KD_RUN=/run/kumo-demo", "KD_RUN="+dir+"/run", 1)
	if err := os.WriteFile(filepath.Join(dir, "lib.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(&Server{Lookup: fixed(bareInstance())})
	defer ts.Close()
	out := runDemo(t, bin, dir, ts.Listener.Addr().(*net.TCPAddr).Port, `
. "$DIR/lib.sh"
IMDS_HOST=127.0.0.1 IMDS_PORT=$PORT IMDS_URL=http://127.0.0.1:$PORT
imds_token >/dev/null || echo "put refused"
imds_get meta-data/instance-id "$DIR/id" && echo "v1 $(cat "$DIR/id")"
imds_get meta-data/public-keys/0/openssh-key "$DIR/key" || echo "key $IMDS_STATUS"
imds_get user-data "$DIR/ud" || echo "user-data $IMDS_STATUS"
`)
	want := "put refused\nv1 i-0ffffffffffffffff\nkey 404\nuser-data 404\n"
	if out != want {
		t.Errorf("demo lib.sh:\n got %q\nwant %q", out, want)
	}
}
