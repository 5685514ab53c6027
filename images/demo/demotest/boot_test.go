package demotest

// Boots the demo image for real under QEMU TCG (q35, 2 vCPUs, 256 MiB)
// against a fake metadata service, and checks the console markers.
//
// Networking is QEMU's user mode with restrict=on: the guest reaches nothing
// but the forwarded metadata address. QEMU only forwards ("guestfwd")
// addresses inside its user network, so that network is 169.254.169.0/24
// (QEMU's DHCP, gateway .1, guest .15) and 169.254.169.254:80 is forwarded,
// one connection at a time, to this test binary run as a relay
// (KUMO_DEMO_RELAY), which connects to the fake service on
// 127.0.0.1:RANDOMPORT.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const testInstanceID = "i-0123456789abcdef0"

func TestMain(m *testing.M) {
	if addr := os.Getenv("KUMO_DEMO_RELAY"); addr != "" {
		os.Exit(relay(addr))
	}
	os.Exit(m.Run())
}

// relay copies one guest connection (stdin/stdout, from QEMU's guestfwd
// cmd:) to addr and back.
func relay(addr string) int {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 1
	}
	tc := c.(*net.TCPConn)
	go func() {
		io.Copy(tc, os.Stdin)
		tc.CloseWrite()
	}()
	io.Copy(os.Stdout, tc)
	return 0
}

// ---------------------------------------------------------------- fake IMDS

type fakeIMDS struct {
	v2        bool   // PUT /latest/api/token answers 200; else putStatus
	putStatus int    // status of the PUT when !v2
	publicKey string // "" = 404
	userData  []byte // nil = 404

	mu       sync.Mutex
	tokens   map[string]bool
	requests []string // "METHOD PATH token=yes|no"
}

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get("X-aws-ec2-metadata-token")
	f.mu.Lock()
	f.requests = append(f.requests, fmt.Sprintf("%s %s token=%v", r.Method, r.URL.Path, tok != ""))
	valid := f.tokens[tok]
	f.mu.Unlock()
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		if !f.v2 {
			http.Error(w, "IMDSv2 disabled", f.putStatus)
			return
		}
		ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		if err != nil || ttl < 1 || ttl > 21600 {
			http.Error(w, "bad ttl", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		t := fmt.Sprintf("tok-%d-%d", len(f.tokens), time.Now().UnixNano())
		f.tokens[t] = true
		f.mu.Unlock()
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
		io.WriteString(w, t)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if f.v2 && !valid { // this fake requires tokens when IMDSv2 is on
		http.Error(w, "token", http.StatusUnauthorized)
		return
	}
	if !f.v2 && tok != "" {
		http.Error(w, "unexpected token", http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case "/latest/meta-data/instance-id":
		io.WriteString(w, testInstanceID)
	case "/latest/meta-data/public-keys/0/openssh-key":
		if f.publicKey == "" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, f.publicKey+"\n")
	case "/latest/user-data":
		if f.userData == nil {
			http.NotFound(w, r)
			return
		}
		w.Write(f.userData)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeIMDS) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// testKey returns an OpenSSH ed25519 public key line and its SHA256 fingerprint.
func testKey(t *testing.T) (line, fp string) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var blob []byte
	for _, s := range [][]byte{[]byte("ssh-ed25519"), pub} {
		blob = binary.BigEndian.AppendUint32(blob, uint32(len(s)))
		blob = append(blob, s...)
	}
	sum := sha256.Sum256(blob)
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob) + " demo@kumo",
		"ssh-ed25519 SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// ---------------------------------------------------------------- image and QEMU

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// image builds the demo image once per test binary (build.sh itself skips
// the work when the cache is up to date) and returns its directory.
func image(t *testing.T) string {
	t.Helper()
	if os.Getenv("KUMO_SKIP_QEMU_TESTS") != "" {
		t.Skip("KUMO_SKIP_QEMU_TESTS is set")
	}
	if testing.Short() {
		t.Skip("boots a VM under TCG; skipped in -short")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86 qemu-utils); skipping the demo image boot tests")
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is missing: the demo image is built from Debian packages", tool)
		}
	}
	buildOnce.Do(func() {
		buildDir = CacheDir()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		buildErr = Build(ctx, buildDir)
		if buildErr == nil {
			fmt.Printf("demo image in %s (build.sh took %v)\n", buildDir, time.Since(start).Round(time.Millisecond))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

type vm struct {
	t       *testing.T
	cmd     *exec.Cmd
	console string
	qmpPath string
	start   time.Time
	done    chan struct{}
	waitErr error
	seen    map[string]bool // marker lines seen so far
	events  []event         // each marker line, when first seen
}

type event struct {
	at   time.Duration // from QEMU's start
	line string
}

type bootOpts struct {
	imds      string // "host:port" the guest's 169.254.169.254:80 reaches
	rootDisk  string // a raw disk image to attach as virtio-blk, "" for none
	append    string // extra kernel command line
	hotplugOK bool   // add a PCIe root port for device_add
}

// boot starts QEMU and returns at once; Cleanup kills it whatever happens.
func boot(t *testing.T, img string, o bootOpts) *vm {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(self, ", ") { // QEMU's option syntax cannot quote these
		cp := filepath.Join(dir, "relay")
		b, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cp, b, 0o755); err != nil {
			t.Fatal(err)
		}
		self = cp
	}
	v := &vm{t: t, console: filepath.Join(dir, "console.log"), qmpPath: filepath.Join(dir, "qmp.sock"),
		done: make(chan struct{}), seen: map[string]bool{}}
	args := []string{
		"-M", "q35", "-accel", "tcg", "-smp", "2", "-m", "256",
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-serial", "file:" + v.console,
		"-qmp", "unix:" + v.qmpPath + ",server=on,wait=off",
		"-kernel", filepath.Join(img, "vmlinuz"), "-initrd", filepath.Join(img, "initrd.img"),
		"-append", strings.Join(strings.Fields("console=ttyS0 "+o.append+" "+os.Getenv("KUMO_DEMO_APPEND")), " "),
		"-netdev", "user,id=n0,restrict=on,net=169.254.169.0/24,host=169.254.169.1,dhcpstart=169.254.169.15," +
			"guestfwd=tcp:169.254.169.254:80-cmd:" + self,
		"-device", "virtio-net-pci,netdev=n0",
	}
	if o.rootDisk != "" {
		args = append(args, "-drive", "file="+o.rootDisk+",format=raw,if=none,id=root",
			"-device", "virtio-blk-pci,drive=root")
	}
	if o.hotplugOK {
		args = append(args, "-device", "pcie-root-port,id=hp1,chassis=1")
	}
	v.cmd = exec.Command("qemu-system-x86_64", args...)
	v.cmd.Env = append(os.Environ(), "KUMO_DEMO_RELAY="+o.imds)
	v.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	v.cmd.Stdout, v.cmd.Stderr = &stderr, &stderr
	v.start = time.Now()
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { v.waitErr = v.cmd.Wait(); close(v.done) }()
	t.Cleanup(func() {
		v.cmd.Process.Kill()
		<-v.done
		if t.Failed() {
			b, _ := os.ReadFile(v.console)
			t.Logf("qemu: %v %s\nconsole:\n%s", v.waitErr, stderr.String(), b)
		}
	})
	return v
}

func (v *vm) output() []byte {
	b, _ := os.ReadFile(v.console)
	return b
}

// waitFor polls the console until a line starts with text (or the VM
// exits, or the timeout passes), recording when each marker first appeared.
func (v *vm) waitFor(text string, timeout time.Duration) {
	v.t.Helper()
	v.waitForLine(text, func(line string) bool { return strings.HasPrefix(line, text) }, timeout)
}

// waitForLine is waitFor for the first line that match accepts.
func (v *vm) waitForLine(text string, match func(string) bool, timeout time.Duration) {
	v.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := v.output()
		now := time.Since(v.start)
		found := false
		lines := strings.Split(string(out), "\n")
		lines = lines[:len(lines)-1] // the last one is still being written
		for _, line := range lines {
			line = strings.TrimRight(line, "\r")
			if (strings.HasPrefix(line, Prefix) || strings.Contains(line, "Linux version")) && !v.seen[line] {
				v.seen[line] = true
				if !strings.HasPrefix(line, Prefix) {
					line = "first kernel line"
				}
				v.events = append(v.events, event{now, line})
			}
			if match(line) {
				found = true
			}
		}
		if found {
			return
		}
		select {
		case <-v.done:
			v.t.Fatalf("QEMU exited (%v) before %q", v.waitErr, text)
		default:
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("no %q on the console after %v", text, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// timings logs when each marker first appeared, from QEMU's start.
func (v *vm) timings(name string) {
	var b strings.Builder
	fmt.Fprintf(&b, "boot times (%s, TCG, q35, 2 vCPU, 256 MiB), from QEMU start (polled every 50 ms):", name)
	for _, e := range v.events {
		fmt.Fprintf(&b, "\n  %6.2fs  %s", e.at.Seconds(), e.line)
	}
	v.t.Log(b.String())
}

// qmp runs one QMP command and returns its "return" value.
func (v *vm) qmp(cmd string, args map[string]any) json.RawMessage {
	v.t.Helper()
	c, err := net.DialTimeout("unix", v.qmpPath, 5*time.Second)
	if err != nil {
		v.t.Fatalf("qmp: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	read := func() map[string]json.RawMessage {
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				v.t.Fatalf("qmp %s: %v", cmd, err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(line, &m); err != nil {
				v.t.Fatalf("qmp %s: %v in %q", cmd, err, line)
			}
			if _, ev := m["event"]; !ev {
				return m
			}
		}
	}
	read() // greeting
	send := func(execute string, arguments map[string]any) map[string]json.RawMessage {
		req := map[string]any{"execute": execute}
		if arguments != nil {
			req["arguments"] = arguments
		}
		b, _ := json.Marshal(req)
		c.Write(append(b, '\n'))
		m := read()
		if e, bad := m["error"]; bad {
			v.t.Fatalf("qmp %s: %s", execute, e)
		}
		return m
	}
	send("qmp_capabilities", nil)
	return send(cmd, args)["return"]
}

// waitExit waits for QEMU to end by itself.
func (v *vm) waitExit(timeout time.Duration) {
	v.t.Helper()
	select {
	case <-v.done:
	case <-time.After(timeout):
		v.t.Fatalf("QEMU still running %v after shutdown was asked", timeout)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func imdsServer(t *testing.T, f *fakeIMDS) string {
	f.tokens = map[string]bool{}
	srv := httptest.NewServer(f) // 127.0.0.1, a random port
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

const bootTimeout = 120 * time.Second

// ---------------------------------------------------------------- tests

// IMDSv2, a root disk, a user-data script; then the ACPI power button
// (QMP system_powerdown) shuts the guest down, and a second boot on the
// same root disk counts 2.
func TestBootIMDSv2(t *testing.T) {
	img := image(t)
	key, fp := testKey(t)
	f := &fakeIMDS{v2: true, publicKey: key, userData: []byte("#!/bin/sh\necho hello-from-user-data $(cat /proc/uptime)\n")}
	addr := imdsServer(t, f)
	root := filepath.Join(t.TempDir(), "root.img")
	copyFile(t, filepath.Join(img, "root.img"), root)

	v := boot(t, img, bootOpts{imds: addr, rootDisk: root})
	v.waitFor(Prefix+Ready, bootTimeout)
	zero := 0
	if err := Verify(v.output(), Expect{InstanceID: testInstanceID, IMDS: "v2", PublicKey: fp,
		UserDataOutput: []string{"hello-from-user-data "}, UserDataExit: &zero, RootDisk: "1"}); err != nil {
		t.Fatal(err)
	}
	ms := Parse(v.output())
	if n, _ := Find(ms, Network); n.Arg(0) != "eth0" || n.Arg(1) != "169.254.169.15" || n.Fields["prefix"] != "24" || n.Fields["mac"] != "52:54:00:12:34:56" {
		t.Errorf("network marker %q", n.Text)
	}
	if d, _ := Find(ms, Disk); d.Arg(0) != "vda" || d.Fields["size"] != "33554432" {
		t.Errorf("disk marker %q", d.Text)
	}
	// The user-data line carries the guest's uptime: "hello-from-user-data 5.12 3.40".
	if !bytes.Contains(v.output(), []byte("hello-from-user-data ")) || bytes.Contains(v.output(), []byte("$(cat")) {
		t.Errorf("user-data did not run as a shell script")
	}
	reqs := f.log()
	if len(reqs) < 4 || reqs[0] != "PUT /latest/api/token token=false" {
		t.Errorf("requests %q: want the token PUT first", reqs)
	}
	for _, r := range reqs[1:] {
		if !strings.HasSuffix(r, "token=true") {
			t.Errorf("request %q without the IMDSv2 token", r)
		}
	}
	v.timings("IMDSv2")

	v.qmp("system_powerdown", nil)
	v.waitFor(Prefix+Shutdown, 60*time.Second)
	v.waitExit(60 * time.Second)
	t.Logf("ACPI power button to QEMU exit: %.2fs after QEMU start", time.Since(v.start).Seconds())

	// Same root disk again: the boot count goes on.
	v2 := boot(t, img, bootOpts{imds: addr, rootDisk: root})
	v2.waitFor(Prefix+Ready, bootTimeout)
	if err := Verify(v2.output(), Expect{InstanceID: testInstanceID, RootDisk: "2"}); err != nil {
		t.Fatal(err)
	}
}

// IMDSv2 refused (PUT → 403): the guest falls back to IMDSv1 GETs without a
// token. The user-data is gzip'd, reads the metadata service itself and
// exits 7. A disk hot-plugged after ready is reported with its serial.
func TestBootIMDSv1Fallback(t *testing.T) {
	img := image(t)
	key, fp := testKey(t)
	var ud bytes.Buffer
	zw := gzip.NewWriter(&ud)
	io.WriteString(zw, "#!/bin/sh\necho hello-from-user-data $(cat /proc/uptime)\n"+
		"echo env-id=$KUMO_INSTANCE_ID imds=$KUMO_IMDS_VERSION\n"+
		"echo helper-id=$(kumo-imds meta-data/instance-id)\n"+
		"printf 'no newline at the end'\nexit 7\n")
	zw.Close()
	f := &fakeIMDS{v2: false, putStatus: http.StatusForbidden, publicKey: key, userData: ud.Bytes()}
	addr := imdsServer(t, f)

	v := boot(t, img, bootOpts{imds: addr, hotplugOK: true})
	v.waitFor(Prefix+Ready, bootTimeout)
	seven := 7
	if err := Verify(v.output(), Expect{InstanceID: testInstanceID, IMDS: "v1", PublicKey: fp, RootDisk: "none",
		UserDataOutput: []string{"hello-from-user-data ", "env-id=" + testInstanceID + " imds=v1",
			"helper-id=" + testInstanceID, "no newline at the end"}, UserDataExit: &seven}); err != nil {
		t.Fatal(err)
	}
	reqs := f.log()
	if len(reqs) < 4 || reqs[0] != "PUT /latest/api/token token=false" {
		t.Errorf("requests %q: want the token PUT first", reqs)
	}
	for _, r := range reqs[1:] {
		if !strings.HasPrefix(r, "GET ") || !strings.HasSuffix(r, "token=false") {
			t.Errorf("request %q after the refused PUT: want IMDSv1 GETs", r)
		}
	}
	v.timings("IMDSv1 fallback")

	// Hot-plug a 64 MiB disk whose serial is a volume id, then remove it.
	vol := filepath.Join(t.TempDir(), "vol.img")
	if err := os.WriteFile(vol, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(vol, 64<<20); err != nil {
		t.Fatal(err)
	}
	v.qmp("blockdev-add", map[string]any{"node-name": "vol1", "driver": "raw",
		"file": map[string]any{"driver": "file", "filename": vol}})
	v.qmp("device_add", map[string]any{"driver": "virtio-blk-pci", "id": "vol1dev", "drive": "vol1",
		"bus": "hp1", "serial": "vol0123456789abcdef0"})
	v.waitForLine("the hot-plugged disk", func(l string) bool {
		return strings.HasPrefix(l, Prefix+"disk ") && strings.HasSuffix(l, " serial=vol0123456789abcdef0")
	}, 60*time.Second)
	// No root disk here, so the volume is the first virtio disk.
	if d := lastMarker(Parse(v.output()), Disk); d.Text != "disk vda size=67108864 serial=vol0123456789abcdef0" {
		t.Errorf("hot-plugged disk marker %q", d.Text)
	}
	v.qmp("device_del", map[string]any{"id": "vol1dev"})
	v.waitFor(Prefix+"disk-removed vda", 60*time.Second)
	v.timings("IMDSv1 fallback, with hot-plug")
}

// No key, no user-data (404s), no root disk.
func TestBootNothingToDo(t *testing.T) {
	img := image(t)
	f := &fakeIMDS{v2: true}
	v := boot(t, img, bootOpts{imds: imdsServer(t, f)})
	v.waitFor(Prefix+Ready, bootTimeout)
	if err := Verify(v.output(), Expect{InstanceID: testInstanceID, IMDS: "v2", PublicKey: "none", RootDisk: "none", UserDataNone: true}); err != nil {
		t.Fatal(err)
	}
	v.timings("no key, no user-data")
}

// Nothing answers at 169.254.169.254: after kumo.imds_wait seconds the guest
// says so with an error marker, and still ends with ready.
func TestBootIMDSUnreachable(t *testing.T) {
	img := image(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close() // connections to it are refused
	v := boot(t, img, bootOpts{imds: closed, append: "kumo.imds_wait=6"})
	v.waitFor(Prefix+Ready, bootTimeout)
	ms := Parse(v.output())
	e, ok := Find(ms, Error)
	if !ok || e.Arg(0) != "imds" || e.Arg(1) != "unreachable" {
		t.Fatalf("want an error imds unreachable marker, got %q", e.Text)
	}
	if _, ok := Find(ms, InstanceID); ok {
		t.Fatal("instance-id printed without a metadata service")
	}
	if err := Verify(v.output(), Expect{}); err == nil {
		t.Fatal("Verify accepted a boot with an error marker")
	}
	v.timings("metadata unreachable, kumo.imds_wait=6")
}

func lastMarker(ms []Marker, event string) Marker {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Event == event {
			return ms[i]
		}
	}
	return Marker{}
}
