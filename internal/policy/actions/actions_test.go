package actions

import (
	"strings"
	"testing"
)

func load(t *testing.T) *Table {
	t.Helper()
	tab, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestTableIsWellFormed checks every entry: ARN templates of six
// segments naming their service, keys with a vendor prefix, no unused
// resource type.
func TestTableIsWellFormed(t *testing.T) {
	tab := load(t)
	used := map[*ResourceType]bool{}
	for _, a := range tab.Actions() {
		if a.Access == "" {
			t.Errorf("%s: no access level", a.Name)
		}
		for _, k := range a.ConditionKeys {
			checkKey(t, a.Name, k)
		}
		for _, r := range a.Resources {
			used[r.Type] = true
		}
	}
	for key, r := range tab.resources {
		parts := strings.SplitN(r.ARN, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[1] != "${Partition}" || !strings.Contains(parts[5], "${") {
			t.Errorf("%s: bad ARN template %q", key, r.ARN)
		}
		for _, k := range r.ConditionKeys {
			checkKey(t, key, k)
		}
		if !used[r] {
			t.Errorf("resource type %s is used by no action", key)
		}
	}
}

func checkKey(t *testing.T, where, k string) {
	vendor, name, ok := strings.Cut(k, ":")
	if !ok || vendor == "" || name == "" || strings.ContainsAny(k, " \t") {
		t.Errorf("%s: bad condition key %q", where, k)
	}
}

// TestLookups checks the entries the engine's callers rely on most.
func TestLookups(t *testing.T) {
	tab := load(t)
	run := tab.ForOperation("ec2", "RunInstances")
	if len(run) != 1 || run[0].Name != "ec2:RunInstances" {
		t.Fatalf("RunInstances -> %v", run)
	}
	inst, ok := run[0].Resource("instance")
	if !ok || !inst.Required {
		t.Fatal("RunInstances has no required instance resource")
	}
	arn := inst.Type.ARNFor(map[string]string{"Region": "us-east-1", "Account": "111122223333", "InstanceId": "i-1"})
	if arn != "arn:aws:ec2:us-east-1:111122223333:instance/i-1" {
		t.Fatalf("instance ARN %q", arn)
	}
	keys := run[0].ConditionKeysFor("instance")
	for _, want := range []string{"ec2:InstanceType", "aws:RequestTag/${TagKey}", "ec2:ResourceTag/${TagKey}", "ec2:Region"} {
		if !contains(keys, want) {
			t.Errorf("RunInstances on an instance lacks key %s: %v", want, keys)
		}
	}
	if kp, _ := run[0].Resource("key-pair"); kp.Required {
		t.Error("RunInstances' key pair is optional")
	}
	snap, _ := tab.ResourceType("ec2", "snapshot")
	if got := snap.ARNFor(map[string]string{"Region": "us-east-1", "SnapshotId": "snap-1"}); got != "arn:aws:ec2:us-east-1::snapshot/snap-1" {
		t.Errorf("snapshot ARN %q", got)
	}
	if d, _ := tab.Action("EC2:describeinstances"); d == nil || len(d.Resources) != 0 {
		t.Error("DescribeInstances should authorize against \"*\"")
	}
	copyObj := tab.ForOperation("s3", "CopyObject")
	if len(copyObj) != 2 || copyObj[0].Name != "s3:PutObject" || copyObj[1].Name != "s3:GetObject" {
		t.Errorf("CopyObject -> %v", copyObj)
	}
	if l := tab.ForOperation("s3", "ListObjectsV2"); len(l) != 1 || !contains(l[0].ConditionKeysFor("bucket"), "s3:prefix") {
		t.Errorf("ListObjectsV2 -> %v", l)
	}
	if a := tab.ForOperation("sts", "AssumeRole"); len(a) != 1 || !contains(a[0].ConditionKeys, "sts:ExternalId") {
		t.Errorf("AssumeRole -> %v", a)
	}
	if a := tab.ForOperation("iam", "PassRole"); len(a) != 1 || !contains(a[0].ConditionKeys, "iam:PassedToService") {
		t.Errorf("PassRole -> %v", a)
	}
	if tab.ForOperation("ec2", "NoSuchThing") != nil {
		t.Error("an unknown operation has an entry")
	}
}

// TestParseRefusesBadTables checks the loader's errors.
func TestParseRefusesBadTables(t *testing.T) {
	for _, bad := range []string{
		"action\tec2:X\tWrite\tnope*\t-",
		"resource\tec2\ta\tarn:${Partition}:ec2:::a/${A}\t-\nresource\tec2\ta\tarn:${Partition}:ec2:::a/${A}\t-",
		"action\tX\tWrite\t-\t-",
		"action\tec2:X\tWrite\t-\t-\naction\tec2:x\tWrite\t-\t-",
		"weird\tline",
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
