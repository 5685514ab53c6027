package s3

import (
	"fmt"
	"path/filepath"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/s3/backend/disk"
	"github.com/kumo-cloud/kumo/internal/s3/backend/remote"
)

// BackendConfig chooses where object bytes live: an external S3 when
// Remote.Endpoint is set, else the local disk under DataDir/objects.
type BackendConfig struct {
	DataDir string
	Remote  remote.Config
}

// OpenBackend opens the backend cfg names.
func OpenBackend(cfg BackendConfig) (backend.Backend, error) {
	if cfg.Remote.Endpoint != "" {
		be, err := remote.New(cfg.Remote)
		if err != nil {
			return nil, fmt.Errorf("s3 backend: %w", err)
		}
		return be, nil
	}
	be, err := disk.Open(filepath.Join(cfg.DataDir, "objects"))
	if err != nil {
		return nil, fmt.Errorf("s3 backend: %w", err)
	}
	return be, nil
}
