// Command s3routegen generates internal/s3's route table from AWS's S3
// model: for every operation its HTTP method, the level of its path (the
// service, a bucket, an object or a fixed path), the query subresources
// its requestUri names (?versioning, ?list-type=2, ?uploads, …), the query
// parameters and headers the model requires (uploadId, partNumber,
// x-amz-copy-source, …) and every query parameter it takes.
//
// The model is models/apis/s3/2006-03-01/api-2.json of the
// github.com/aws/aws-sdk-go module. Operations newer than that model
// (GetBucketAbac, UpdateObjectEncryption, the metadata configurations, …)
// are added from the request serializers of the
// github.com/aws/aws-sdk-go-v2/service/s3 module, which also give the x-id
// parameter the v2 SDK sends with each operation. Both modules are located
// with go list, as go.mod pins them.
//
//	go run ./s3routegen -out zz_routes.go
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kumo-cloud/kumo/internal/modcache"
)

const (
	sdkV1Module = "github.com/aws/aws-sdk-go"
	sdkV2Module = "github.com/aws/aws-sdk-go-v2/service/s3"
	modelRel    = "models/apis/s3/2006-03-01/api-2.json"
	serialRel   = "serializers.go"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "s3routegen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("s3routegen", flag.ContinueOnError)
	out := fs.String("out", "", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	code, err := build()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, code, 0o644); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// sources are the two located inputs.
type sources struct {
	v1, v2 modcache.Module
}

// build locates both modules, reads them and renders the table.
func build() ([]byte, error) {
	var src sources
	var err error
	if src.v1, err = modcache.Locate(sdkV1Module); err != nil {
		return nil, err
	}
	if src.v2, err = modcache.Locate(sdkV2Module); err != nil {
		return nil, err
	}
	model, err := os.ReadFile(filepath.Join(src.v1.Dir, filepath.FromSlash(modelRel)))
	if err != nil {
		return nil, fmt.Errorf("read the S3 model: %w", err)
	}
	serial, err := os.ReadFile(filepath.Join(src.v2.Dir, serialRel))
	if err != nil {
		return nil, fmt.Errorf("read the v2 S3 serializers: %w", err)
	}
	ops, err := parseModel(model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelRel, err)
	}
	newer, err := parseSerializers(serial)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", sdkV2Module, serialRel, err)
	}
	if ops, err = merge(ops, newer); err != nil {
		return nil, err
	}
	return render(ops, src)
}
