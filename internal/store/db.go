// Package store holds Kumo's durable state: the database handle, its
// migrations and the typed queries over it. SQLite (modernc.org/sqlite, WAL)
// is the embedded default; PostgreSQL (pgx) is the production store. Both run
// the same SQL: placeholders are $N, types are TEXT, BIGINT and BOOLEAN only.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the database engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options configure Open.
type Options struct {
	// DSN is empty for SQLite in DataDir, or a postgres:// URL.
	DSN string
	// DataDir holds kumo.db when DSN is empty.
	DataDir string
	// MaxOpenConns bounds the pool; 0 picks a default per dialect.
	MaxOpenConns int
	// Timeout bounds every call that arrives without a deadline (default 10s).
	Timeout time.Duration
}

// DB is the durable store. It is safe for concurrent use.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	timeout time.Duration
}

// Open connects, bounds the pool and applies pending migrations.
func Open(ctx context.Context, opts Options) (*DB, error) {
	db, err := openPool(opts)
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s database: %w", db.dialect, err)
	}
	if err := restrictFiles(opts); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// restrictFiles makes an SQLite database and its WAL and shared-memory
// files readable by their owner only, whatever the umask they were
// created under (SQLite creates them 0644) or an older Kumo left.
func restrictFiles(opts Options) error {
	path := sqlitePath(opts)
	if path == "" {
		return nil
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restrict %s: %w", p, err)
		}
	}
	return nil
}

// sqlitePath is the database file of SQLite options, "" for PostgreSQL.
func sqlitePath(opts Options) string {
	if opts.DSN != "" && !strings.HasPrefix(opts.DSN, "sqlite:") {
		return ""
	}
	if path := strings.TrimPrefix(opts.DSN, "sqlite:"); path != "" {
		return path
	}
	if opts.DataDir == "" {
		return ""
	}
	return filepath.Join(opts.DataDir, "kumo.db")
}

func openPool(opts Options) (*DB, error) {
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	driver, dsn, dialect, maxOpen, err := resolveDSN(opts)
	if err != nil {
		return nil, err
	}
	if opts.MaxOpenConns > 0 {
		maxOpen = opts.MaxOpenConns
	}
	pool, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	pool.SetMaxOpenConns(maxOpen)
	pool.SetMaxIdleConns(maxOpen)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{sql: pool, dialect: dialect, timeout: timeout}, nil
}

func resolveDSN(opts Options) (driver, dsn string, dialect Dialect, maxOpen int, err error) {
	switch {
	case opts.DSN == "" || strings.HasPrefix(opts.DSN, "sqlite:"):
		path := strings.TrimPrefix(opts.DSN, "sqlite:")
		if path == "" {
			if opts.DataDir == "" {
				return "", "", "", 0, errors.New("open store: neither a database URL nor a data directory was given")
			}
			path = filepath.Join(opts.DataDir, "kumo.db")
		}
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		return "sqlite", "file:" + path + "?" + q.Encode(), SQLite, 8, nil
	case strings.HasPrefix(opts.DSN, "postgres://"), strings.HasPrefix(opts.DSN, "postgresql://"):
		return "pgx", opts.DSN, Postgres, 20, nil
	default:
		return "", "", "", 0, fmt.Errorf("open store: unsupported database URL %q (want empty, sqlite:PATH or postgres://…)", redact(opts.DSN))
	}
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "<unparsable>"
	}
	return u.Redacted()
}

// Dialect reports the engine in use.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close releases the pool.
func (db *DB) Close() error { return db.sql.Close() }

// Stats reports pool use (in use, idle, waits) for metrics and leak tests.
func (db *DB) Stats() sql.DBStats { return db.sql.Stats() }

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	return db.sql.PingContext(ctx)
}

// deadline gives ctx the store's default timeout unless it already has one.
func (db *DB) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, db.timeout)
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is one database transaction; every store query is a method on it.
type Tx struct {
	q       querier
	dialect Dialect
}

// Update runs fn in one read-write transaction, committing when fn returns
// nil and rolling back on every other path (error or panic).
func (db *DB) Update(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return db.inTx(ctx, false, fn)
}

// View runs fn in one read-only transaction (a consistent snapshot).
func (db *DB) View(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return db.inTx(ctx, true, fn)
}

func (db *DB) inTx(ctx context.Context, readOnly bool, fn func(ctx context.Context, tx *Tx) error) (err error) {
	ctx, cancel := db.deadline(ctx)
	defer cancel()
	defer func() {
		// A transaction that ran out of time failed because the database
		// did not answer (locked, unreachable), whatever error the driver
		// turned the interruption into.
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, ErrUnavailable) {
			err = errors.Join(ErrUnavailable, err)
		}
	}()
	opts := &sql.TxOptions{ReadOnly: readOnly && db.dialect == Postgres}
	if db.dialect == SQLite && readOnly {
		// A read-only snapshot needs no write lock: run on the pool
		// directly; WAL gives each statement a consistent view.
		return fn(ctx, &Tx{q: db.sql, dialect: db.dialect})
	}
	sqlTx, err := db.sql.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", classify(err))
	}
	committed := false
	defer func() {
		if !committed {
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(ctx, &Tx{q: sqlTx, dialect: db.dialect}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", classify(err))
	}
	committed = true
	return nil
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.q.ExecContext(ctx, query, args...)
	return res, classify(err)
}

// execOne runs a statement that must touch exactly one row.
func (tx *Tx) execOne(ctx context.Context, query string, args ...any) error {
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// queryRows runs a query and calls scan for every row; rows are always closed.
func (tx *Tx) queryRows(ctx context.Context, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := tx.q.QueryContext(ctx, query, args...)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return classify(rows.Err())
}

func (tx *Tx) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	err := tx.q.QueryRowContext(ctx, query, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return classify(err)
}

// now is the store's clock in unix milliseconds.
func now() int64 { return time.Now().UnixMilli() }

// Millis converts a stored timestamp to time.Time.
func Millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
