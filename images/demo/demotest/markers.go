// Package demotest reads the serial console of the Kumo demo guest
// (images/demo) and builds the image for tests.
//
// The guest prints one line per step, "KUMO-DEMO: EVENT ARGS...", where ARGS
// are positional words followed by key=value words (images/demo/README.md
// has the protocol). Tests that boot the image, such as the compute
// end-to-end tests, parse the console with Parse and check a boot with
// Verify.
package demotest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Prefix starts every marker line.
const Prefix = "KUMO-DEMO: "

// Marker events, in the order a boot prints them (Disk may repeat, and comes
// again later for hot-plugged disks; Error replaces a step that failed).
const (
	Booted      = "booted"       // booted KERNEL-RELEASE
	Disk        = "disk"         // disk NAME size=BYTES serial=SERIAL|-
	RootDisk    = "root-disk"    // root-disk NAME boot-count=N | root-disk none
	Network     = "network"      // network IFNAME IP prefix=N router=IP|- mac=MAC
	IMDS        = "imds"         // imds v2|v1
	InstanceID  = "instance-id"  // instance-id i-...
	PublicKey   = "public-key"   // public-key TYPE SHA256:FP | public-key none
	UserData    = "user-data"    // user-data none | ignored bytes=N | start | exit CODE
	Ready       = "ready"        // ready
	DiskRemoved = "disk-removed" // disk-removed NAME (after ready)
	DiskData    = "disk-data"    // disk-data NAME sha256=SUM [written=1] (a hot-plugged volume)
	DiskResized = "disk-resized" // disk-resized NAME size=BYTES (an online grow)
	Shutdown    = "shutdown"     // shutdown (poweroff, reboot, ACPI power button)
	Error       = "error"        // error STEP DETAIL...
)

// Marker is one KUMO-DEMO line of the console.
type Marker struct {
	Line   int               // 1-based line number in the console output
	Event  string            // e.g. "network"
	Args   []string          // positional words after the event, e.g. ["eth0", "10.0.0.5"]
	Fields map[string]string // key=value words, e.g. {"prefix": "24"}
	Text   string            // the whole line after the prefix
}

// Arg returns positional argument i, or "" when there is none.
func (m Marker) Arg(i int) string {
	if i < len(m.Args) {
		return m.Args[i]
	}
	return ""
}

// Parse returns the markers of a console output, in order. A marker is a line
// that starts with Prefix once a trailing "\r" is removed; anything else
// (kernel messages, the user-data script's output) is skipped.
func Parse(console []byte) []Marker {
	var out []Marker
	for i, line := range strings.Split(string(console), "\n") {
		line = strings.TrimRight(line, "\r")
		rest, ok := strings.CutPrefix(line, Prefix)
		if !ok {
			continue
		}
		words := strings.Fields(rest)
		if len(words) == 0 {
			continue
		}
		m := Marker{Line: i + 1, Event: words[0], Fields: map[string]string{}, Text: rest}
		for _, w := range words[1:] {
			if k, v, ok := strings.Cut(w, "="); ok && k != "" {
				m.Fields[k] = v
			} else {
				m.Args = append(m.Args, w)
			}
		}
		out = append(out, m)
	}
	return out
}

// Find returns the first marker with the event, and whether there is one.
func Find(ms []Marker, event string) (Marker, bool) {
	for _, m := range ms {
		if m.Event == event {
			return m, true
		}
	}
	return Marker{}, false
}

// Expect is what Verify checks in a boot's console. Empty fields are not checked.
type Expect struct {
	InstanceID string // the instance id the guest must have read
	IMDS       string // "v1" or "v2"
	// PublicKey is the "TYPE SHA256:FP" the guest must print, or "none".
	PublicKey string
	// UserDataOutput lines must appear, in order, between "user-data start"
	// and "user-data exit"; UserDataNone expects "user-data none" instead.
	UserDataOutput []string
	UserDataExit   *int
	UserDataNone   bool
	// RootDisk is "none" or the boot count expected on the root disk ("1" on a new one).
	RootDisk string
}

// Verify checks that console holds one complete boot (the last one, when it
// holds several): every step in order up to "ready", no "error" marker, and
// what e asks for. The error names the first thing that is wrong.
func Verify(console []byte, e Expect) error {
	lines := strings.Split(string(console), "\n")
	ms := Parse(console)
	// the last boot only
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Event == Booted {
			ms = ms[i:]
			break
		}
	}
	for _, m := range ms {
		if m.Event == Error {
			return fmt.Errorf("line %d: %s%s", m.Line, Prefix, m.Text)
		}
	}
	order := []string{Booted, RootDisk, Network, IMDS, InstanceID, PublicKey, UserData, Ready}
	pos := map[string]Marker{}
	next := 0
	for _, m := range ms {
		if next < len(order) && m.Event == order[next] {
			pos[m.Event] = m
			next++
		}
	}
	if next < len(order) {
		return fmt.Errorf("no %q marker in order after %v (markers: %s)", order[next], order[:next], summary(ms))
	}
	if e.IMDS != "" && pos[IMDS].Arg(0) != e.IMDS {
		return fmt.Errorf("imds %q, want %q", pos[IMDS].Arg(0), e.IMDS)
	}
	if e.InstanceID != "" && pos[InstanceID].Arg(0) != e.InstanceID {
		return fmt.Errorf("instance-id %q, want %q", pos[InstanceID].Arg(0), e.InstanceID)
	}
	if e.PublicKey != "" && strings.Join(pos[PublicKey].Args, " ") != e.PublicKey {
		return fmt.Errorf("public-key %q, want %q", strings.Join(pos[PublicKey].Args, " "), e.PublicKey)
	}
	switch {
	case e.RootDisk == "none" && pos[RootDisk].Arg(0) != "none":
		return fmt.Errorf("root-disk %q, want none", pos[RootDisk].Text)
	case e.RootDisk != "" && e.RootDisk != "none" && pos[RootDisk].Fields["boot-count"] != e.RootDisk:
		return fmt.Errorf("root-disk %q, want boot-count=%s", pos[RootDisk].Text, e.RootDisk)
	}
	ud := pos[UserData]
	if e.UserDataNone {
		if ud.Arg(0) != "none" {
			return fmt.Errorf("user-data %q, want none", ud.Text)
		}
		return nil
	}
	if len(e.UserDataOutput) == 0 && e.UserDataExit == nil {
		return nil
	}
	if ud.Arg(0) != "start" {
		return fmt.Errorf("user-data %q, want start", ud.Text)
	}
	var exit Marker
	for _, m := range ms {
		if m.Event == UserData && m.Arg(0) == "exit" && m.Line > ud.Line {
			exit = m
			break
		}
	}
	if exit.Line == 0 || exit.Line > pos[Ready].Line {
		return fmt.Errorf("no %suser-data exit before ready", Prefix)
	}
	if e.UserDataExit != nil && exit.Arg(1) != fmt.Sprint(*e.UserDataExit) {
		return fmt.Errorf("user-data exit %q, want %d", exit.Arg(1), *e.UserDataExit)
	}
	body := lines[ud.Line : exit.Line-1] // between the two markers
	i := 0
	for _, l := range body {
		if i < len(e.UserDataOutput) && strings.Contains(l, e.UserDataOutput[i]) {
			i++
		}
	}
	if i < len(e.UserDataOutput) {
		return fmt.Errorf("user-data output lacks %q (output: %q)", e.UserDataOutput[i], body)
	}
	return nil
}

func summary(ms []Marker) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "\n  %d: %s", m.Line, m.Text)
	}
	return b.String()
}

// Dir is the images/demo directory of the source tree this package was built from.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(filepath.Dir(file))
}

// Build runs images/demo/build.sh into outDir (skipped by the script when
// the image there is up to date) and returns its output on failure.
func Build(ctx context.Context, outDir string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(Dir(), "build.sh"), outDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("images/demo/build.sh %s: %v\n%s", outDir, err, out.String())
	}
	return nil
}

// CacheDir is where tests keep a built image: $KUMO_DEMO_IMAGE_DIR, else
// the user's cache directory (kumo/images/demo), else a directory under the
// system's temporary directory.
func CacheDir() string {
	if d := os.Getenv("KUMO_DEMO_IMAGE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "kumo", "images", "demo")
	}
	return filepath.Join(os.TempDir(), "kumo-images-demo")
}
