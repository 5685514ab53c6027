// Command awsgen generates a Kumo API package from an AWS API model: the Go
// structs of the shapes that the implemented operations reach, a Service
// interface with one method per implemented operation, and an
// awsapi.ServiceModel listing every operation of the model.
//
// It reads models/apis/<service>/<version>/api-2.json from the
// github.com/aws/aws-sdk-go module, which it locates with go list.
//
//	go run ../awsgen -service ec2 -ops ops.txt -pkg ec2api -out zz_generated.go
//
// The ops file names one implemented operation per line; blank lines and
// lines starting with # are ignored.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "awsgen:", err)
		os.Exit(1)
	}
}

type options struct {
	service, opsFile, pkg, out string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("awsgen", flag.ContinueOnError)
	fs.StringVar(&o.service, "service", "", "AWS service model to read: ec2, iam, sts, …")
	fs.StringVar(&o.opsFile, "ops", "", "file listing the implemented operations, one per line")
	fs.StringVar(&o.pkg, "pkg", "", "Go package name of the generated file")
	fs.StringVar(&o.out, "out", "", "output file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.service == "" || o.opsFile == "" || o.pkg == "" || o.out == "" {
		return o, errors.New("-service, -ops, -pkg and -out are required")
	}
	return o, nil
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	ops, err := readOps(o.opsFile)
	if err != nil {
		return err
	}
	src, err := locateModel(o.service)
	if err != nil {
		return err
	}
	m, err := loadModel(src.Path)
	if err != nil {
		return err
	}
	p, err := newPlan(m, ops)
	if err != nil {
		return fmt.Errorf("%s: %w", src.Rel, err)
	}
	code, err := generate(p, src, o.pkg)
	if err != nil {
		return fmt.Errorf("%s: %w", src.Rel, err)
	}
	if err := os.WriteFile(o.out, code, 0o644); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// readOps reads the implemented operations, one per line.
func readOps(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ops: %w", err)
	}
	var ops []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			ops = append(ops, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ops %s: %w", path, err)
	}
	return ops, nil
}
