// Package storetest opens throwaway stores for tests on every backend:
// SQLite in a temporary directory always, and PostgreSQL when
// KUMO_TEST_POSTGRES names a server (make test starts one and sets it).
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// EnvPostgres names the variable holding a PostgreSQL URL for tests.
const EnvPostgres = "KUMO_TEST_POSTGRES"

// Backend is one database engine a test runs against.
type Backend struct {
	Name string
	// Options returns store options for a fresh, empty database.
	Options func(t testing.TB) store.Options
}

// Backends lists SQLite, plus PostgreSQL when configured.
func Backends() []Backend {
	b := []Backend{{Name: "sqlite", Options: sqliteOptions}}
	if os.Getenv(EnvPostgres) != "" {
		b = append(b, Backend{Name: "postgres", Options: postgresOptions})
	}
	return b
}

// Each runs fn as a subtest on every backend; it says so when PostgreSQL is skipped.
func Each(t *testing.T, fn func(t *testing.T, b Backend)) {
	if os.Getenv(EnvPostgres) == "" {
		t.Logf("PostgreSQL backend skipped: %s is not set (make test starts a server and sets it)", EnvPostgres)
	}
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

// Open opens a fresh store on b, closed at the end of the test.
func Open(t testing.TB, b Backend) *store.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, b.Options(t))
	if err != nil {
		t.Fatalf("open %s store: %v", b.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sqliteOptions(t testing.TB) store.Options {
	return store.Options{DataDir: t.TempDir()}
}

// postgresOptions makes a schema of its own for the test and points the
// connection's search_path at it, so tests never see each other's rows.
func postgresOptions(t testing.TB) store.Options {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	schema := "t_" + strings.ReplaceAll(ids.Resource("s"), "-", "_")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvPostgres, err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema on %s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return store.Options{DSN: u.String(), DataDir: t.TempDir()}
}

// MustUpdate runs fn in a transaction and fails the test on error.
func MustUpdate(t testing.TB, db *store.DB, fn func(ctx context.Context, tx *store.Tx) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatal(fmt.Errorf("update: %w", err))
	}
}
