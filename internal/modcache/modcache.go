// Package modcache locates a module of go.mod in the Go module cache, for
// the code generators that read files shipped inside a dependency (AWS's
// API models, the SDK's serializers).
package modcache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
)

// Module is what `go list -m -json` says of a module.
type Module struct {
	Path    string
	Dir     string
	Version string
}

// Locate finds a module of go.mod in the module cache, downloading it
// first when it is not there yet.
func Locate(module string) (Module, error) {
	info, err := list(module)
	if err == nil && info.Dir == "" {
		if err = goCommand("mod", "download", module); err == nil {
			info, err = list(module)
		}
	}
	if err != nil {
		return info, err
	}
	if info.Dir == "" {
		return info, fmt.Errorf("module %s has no directory after go mod download", module)
	}
	return info, nil
}

func list(module string) (Module, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "list", "-m", "-json", module)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return Module{}, fmt.Errorf("go list -m %s: %w: %s", module, err, stderr.Bytes())
	}
	var info Module
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
		return Module{}, fmt.Errorf("go list -m %s: %w", module, err)
	}
	return info, nil
}

func goCommand(args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %v: %w", args, err)
	}
	return nil
}
