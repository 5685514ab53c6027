package store

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// backfillBackends are SQLite, and PostgreSQL in a schema of its own when
// KUMO_TEST_POSTGRES is set (storetest cannot be used from inside the package).
func backfillBackends(t *testing.T) map[string]Options {
	out := map[string]Options{"sqlite": {DataDir: t.TempDir()}}
	base := os.Getenv("KUMO_TEST_POSTGRES")
	if base == "" {
		return out
	}
	schema := "t_backfill_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "_")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := sql.Open("pgx", base); err == nil {
			_, _ = c.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			c.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	out["postgres"] = Options{DSN: u.String()}
	return out
}

// TestRoutingBackfill runs migration 0005's backfill on VPCs made before it:
// each gets a main table with its local route, default VPCs also a gateway
// and a default route.
func TestRoutingBackfill(t *testing.T) {
	for name, opts := range backfillBackends(t) {
		t.Run(name, func(t *testing.T) { testBackfill(t, opts) })
	}
}

func testBackfill(t *testing.T, opts Options) {
	ctx := context.Background()
	db, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var backfill []string
	for _, m := range list {
		if m.version == 5 {
			for _, stmt := range splitStatements(m.sql) {
				if strings.HasPrefix(stmt, "INSERT") {
					backfill = append(backfill, stmt)
				}
			}
		}
	}
	if len(backfill) != 4 {
		t.Fatalf("found %d backfill statements, want 4", len(backfill))
	}
	var tables []RouteTable
	var gws []InternetGateway
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		now := time.Now()
		if err := tx.InsertAccount(ctx, Account{ID: "123456789012", Name: "a", CreatedAt: now}); err != nil {
			return err
		}
		for _, v := range []VPC{
			{ID: "vpc-0123456789abcdef0", AccountID: "123456789012", CIDRBlock: "172.31.0.0/16", IsDefault: true, CreatedAt: now},
			{ID: "vpc-0123456789abcdef1", AccountID: "123456789012", CIDRBlock: "10.0.0.0/16", CreatedAt: now},
		} {
			if err := tx.InsertVPC(ctx, v); err != nil {
				return err
			}
		}
		for _, stmt := range backfill {
			if _, err := tx.exec(ctx, stmt); err != nil {
				return err
			}
		}
		if tables, err = tx.ListRouteTables(ctx, "123456789012"); err != nil {
			return err
		}
		gws, err = tx.ListInternetGateways(ctx, "123456789012")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(gws) != 1 || gws[0].ID != "igw-0123456789abcdef0" || gws[0].VPCID != "vpc-0123456789abcdef0" {
		t.Errorf("gateways: %+v", gws)
	}
	if len(tables) != 2 || tables[0].ID != "rtb-0123456789abcdef0" || tables[0].MainAssociationID != "rtbassoc-0123456789abcdef0" ||
		len(tables[0].Routes) != 2 || tables[0].Routes[0].DestinationCIDR != "0.0.0.0/0" || tables[0].Routes[0].GatewayID != "igw-0123456789abcdef0" ||
		len(tables[1].Routes) != 1 || tables[1].Routes[0].GatewayID != "local" || tables[1].Routes[0].DestinationCIDR != "10.0.0.0/16" {
		t.Errorf("tables: %+v", tables)
	}
}
