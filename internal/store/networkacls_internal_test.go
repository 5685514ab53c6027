package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestNetworkACLBackfill runs migration 0010's backfill on VPCs and
// subnets made before it (a default VPC already in a database): each VPC
// gets a default ACL with AWS's four default entries, each subnet an
// association with it, on SQLite and PostgreSQL alike.
func TestNetworkACLBackfill(t *testing.T) {
	for name, opts := range backfillBackends(t) {
		t.Run(name, func(t *testing.T) { testACLBackfill(t, opts) })
	}
}

func aclBackfill(t *testing.T) []string {
	t.Helper()
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range list {
		if m.version == 10 {
			for _, stmt := range splitStatements(m.sql) {
				if strings.HasPrefix(stmt, "INSERT") {
					out = append(out, stmt)
				}
			}
		}
	}
	if len(out) != 6 {
		t.Fatalf("found %d backfill statements, want 6", len(out))
	}
	return out
}

func testACLBackfill(t *testing.T, opts Options) {
	ctx := context.Background()
	db, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	backfill := aclBackfill(t)
	const account = "123456789012"
	var acls []NetworkACL
	var subnetACLs []SubnetACL
	var missing bool
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := time.Now()
		if err := tx.InsertAccount(ctx, Account{ID: account, Name: "a", CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.InsertVPC(ctx, VPC{ID: "vpc-0123456789abcdef0", AccountID: account, CIDRBlock: "172.31.0.0/16", IsDefault: true, CreatedAt: now}); err != nil {
			return err
		}
		for i, cidr := range []string{"172.31.0.0/20", "172.31.16.0/20"} {
			sn := Subnet{ID: "subnet-0123456789abcdef" + string(rune('0'+i)), AccountID: account, VPCID: "vpc-0123456789abcdef0", CIDRBlock: cidr, CreatedAt: now}
			if err := tx.InsertSubnet(ctx, sn); err != nil {
				return err
			}
		}
		if missing, err = tx.NetworkACLsMissing(ctx, account); err != nil {
			return err
		}
		for _, stmt := range backfill {
			if _, err := tx.exec(ctx, stmt); err != nil {
				return err
			}
		}
		if acls, err = tx.ListNetworkACLs(ctx, account); err != nil {
			return err
		}
		subnetACLs, err = tx.VPCSubnetACLs(ctx, "vpc-0123456789abcdef0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !missing {
		t.Error("NetworkACLsMissing: false before the backfill")
	}
	if len(acls) != 1 || acls[0].ID != "acl-0123456789abcdef0" || !acls[0].IsDefault || len(acls[0].Entries) != 4 || len(acls[0].Associations) != 2 ||
		acls[0].Associations[0].ID != "aclassoc-0123456789abcdef0" || acls[0].Associations[1].SubnetID != "subnet-0123456789abcdef1" {
		t.Fatalf("acls: %+v", acls)
	}
	want := DefaultNetworkACLEntries("acl-0123456789abcdef0")
	for i, e := range acls[0].Entries {
		w := want[i]
		if e.Egress != w.Egress || e.RuleNumber != w.RuleNumber || e.Protocol != w.Protocol || e.RuleAction != w.RuleAction || e.CIDRBlock != w.CIDRBlock ||
			e.PortRange != nil || e.ICMP != nil {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
	}
	if len(subnetACLs) != 2 || subnetACLs[0].NetworkACLID != "acl-0123456789abcdef0" || len(subnetACLs[1].Entries) != 4 || subnetACLs[1].CIDRBlock != "172.31.16.0/20" {
		t.Errorf("subnet acls: %+v", subnetACLs)
	}
}
