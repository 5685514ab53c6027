package store_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/kumo-cloud/kumo/internal/store"
)

// rawDB opens the database of opts directly, for statements the store
// does not offer (a migration of the future).
func rawDB(t *testing.T, opts store.Options) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", opts.DSN
	if opts.DSN == "" {
		driver, dsn = "sqlite", "file:"+filepath.Join(opts.DataDir, "kumo.db")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}
