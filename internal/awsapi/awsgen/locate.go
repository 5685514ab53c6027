package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/kumo-cloud/kumo/internal/modcache"
)

// sdkModule ships AWS's JSON API models under models/apis.
const sdkModule = "github.com/aws/aws-sdk-go"

// modelFile is a located api-2.json.
type modelFile struct {
	Path       string // absolute path on disk
	Rel        string // models/apis/<service>/<version>/api-2.json
	SDKVersion string // e.g. v1.55.8
}

// locateModel finds the newest api-2.json of service in the module cache,
// downloading the SDK module first when it is not there yet.
func locateModel(service string) (modelFile, error) {
	mod, err := modcache.Locate(sdkModule)
	if err != nil {
		return modelFile{}, err
	}
	version, err := newestAPIVersion(filepath.Join(mod.Dir, "models", "apis", service))
	if err != nil {
		return modelFile{}, err
	}
	rel := filepath.ToSlash(filepath.Join("models", "apis", service, version, "api-2.json"))
	return modelFile{Path: filepath.Join(mod.Dir, filepath.FromSlash(rel)), Rel: rel, SDKVersion: mod.Version}, nil
}

// newestAPIVersion returns the last (by name, i.e. by date) version
// directory of a service that holds an api-2.json.
func newestAPIVersion(serviceDir string) (string, error) {
	entries, err := os.ReadDir(serviceDir)
	if err != nil {
		return "", fmt.Errorf("list model versions: %w", err)
	}
	var versions []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(serviceDir, e.Name(), "api-2.json")); err == nil {
			versions = append(versions, e.Name())
		}
	}
	if len(versions) == 0 {
		return "", fmt.Errorf("no api-2.json under %s", serviceDir)
	}
	slices.Sort(versions)
	return versions[len(versions)-1], nil
}
