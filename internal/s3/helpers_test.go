package s3

import (
	"crypto/sha256"
	"fmt"
	"hash"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

func sha256New() hash.Hash { return sha256.New() }

func fmtRange(r backend.ByteRange) string { return fmt.Sprint(r) }
