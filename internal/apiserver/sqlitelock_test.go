package apiserver_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"
)

var neturlParse = url.Parse

// lockSQLite holds kumo.db's write lock from a connection of its own, as
// another process (a backup, an operator's sqlite3 shell) would.
func lockSQLite(t *testing.T, dataDir string) (unlock func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "kumo.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := false
	unlock = func() {
		if done {
			return
		}
		done = true
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
	}
	t.Cleanup(unlock)
	return unlock
}
