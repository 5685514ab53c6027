package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFileUpToDate regenerates the route table in memory and
// compares it with the committed zz_routes.go.
func TestGeneratedFileUpToDate(t *testing.T) {
	code, err := build()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "zz_routes.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code, committed) {
		t.Error("internal/s3/zz_routes.go is stale: run go generate ./internal/s3/")
	}
}

// TestModelOperations checks what routing relies on in the parsed model.
func TestModelOperations(t *testing.T) {
	code, err := build()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`{name: "CopyObject", method: "PUT", level: levelObject, requiredHeaders: []string{"x-amz-copy-source"}`,
		`{name: "ListObjectsV2", method: "GET", level: levelBucket, query: []queryLiteral{{"list-type", "2"}}`,
		`{name: "UpdateObjectEncryption", method: "PUT", level: levelObject, query: []queryLiteral{{"encryption", ""}}`,
		`{name: "WriteGetObjectResponse", method: "POST", level: levelFixed, path: "/WriteGetObjectResponse"`,
		`sameAs: "GetBucketLifecycleConfiguration"`,
		`xid: "ListDirectoryBuckets"`,
		`"uploadId":`,
	} {
		if !bytes.Contains(code, []byte(want)) {
			t.Errorf("generated table lacks %s", want)
		}
	}
}
