package actions_test

// An external test package: internal/s3 depends on this package (through
// internal/authz), so only an external test may list S3's operations.

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/policy/actions"
	"github.com/kumo-cloud/kumo/internal/s3"
)

// opsFile reads an awsapi ops.txt: the operations Kumo implements.
func opsFile(t *testing.T, svc string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "awsapi", svc+"api", "ops.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ops []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if op := strings.TrimSpace(sc.Text()); op != "" && !strings.HasPrefix(op, "#") {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		t.Fatalf("%s ops.txt lists nothing", svc)
	}
	return ops
}

// TestEveryImplementedOperationHasAnEntry fails when Kumo implements an
// EC2, IAM, STS or S3 operation the authorization table does not cover.
func TestEveryImplementedOperationHasAnEntry(t *testing.T) {
	tab, err := actions.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"ec2", "iam", "sts"} {
		for _, op := range opsFile(t, svc) {
			if len(tab.ForOperation(svc, op)) == 0 {
				t.Errorf("%s:%s is implemented but has no authorization entry in authz.tsv", svc, op)
			}
		}
	}
	n := 0
	for _, o := range s3.Operations() {
		if !o.Implemented {
			continue
		}
		n++
		if len(tab.ForOperation("s3", o.ServedAs)) == 0 {
			t.Errorf("S3 %s is implemented but has no authorization entry in authz.tsv", o.ServedAs)
		}
	}
	if n == 0 {
		t.Fatal("no implemented S3 operation")
	}
}
