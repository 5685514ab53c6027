package qemu_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/hypervisor/qemu"
)

// agentEnv makes the test binary act as a short-lived agent: it starts the
// guest of the Spec in this variable, reports, and waits to be killed.
const agentEnv = "KUMO_QEMU_TEST_AGENT_SPEC"

// FakeQEMUEnv makes the test binary stand in for a QEMU process that
// never exits by itself (see instance_test.go).
const fakeQEMUEnv = "KUMO_QEMU_TEST_FAKE_QEMU"

func TestMain(m *testing.M) {
	if spec := os.Getenv(agentEnv); spec != "" {
		os.Exit(runAgent(spec))
	}
	if req := os.Getenv(chooseEnv); req != "" {
		os.Exit(runChoose(req))
	}
	if os.Getenv(fakeQEMUEnv) != "" {
		// Not select{}: with no other goroutine the runtime would call
		// that a deadlock and exit, and the fake QEMU would vanish.
		for {
			time.Sleep(time.Hour)
		}
	}
	os.Exit(m.Run())
}

func runAgent(specJSON string) int {
	var s qemu.Spec
	if err := json.Unmarshal([]byte(specJSON), &s); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inst, err := qemu.Driver{}.Start(ctx, s)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("started", inst.PID())
	select {} // until kill -9
}

// startInAgent starts the guest from a child process, as the node agent
// would, then kill -9s that process: the guest must outlive it.
func startInAgent(t *testing.T, s qemu.Spec) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), agentEnv+"="+string(b))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // never leak the guest when the test fails early
		if inst, err := (qemu.Driver{}).Attach(context.Background(), s.RunDir); err == nil {
			inst.Stop(context.Background(), true)
		}
	})
	line, _ := bufio.NewReader(out).ReadString('\n')
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	if !strings.HasPrefix(line, "started ") {
		t.Fatalf("agent did not start the guest: %q", line)
	}
}
