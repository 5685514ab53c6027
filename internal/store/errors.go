package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

var (
	// ErrNotFound: no row matched.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key already exists.
	ErrConflict = errors.New("already exists")
	// ErrInUse: a foreign key still points at the row.
	ErrInUse = errors.New("in use")
	// ErrUnavailable: the database cannot be reached, is locked or did not
	// answer in time. The request may succeed when retried; APIs answer
	// 503 so that SDKs retry.
	ErrUnavailable = errors.New("database unavailable")
)

// SQLite extended result codes and PostgreSQL SQLSTATEs that carry meaning.
const (
	sqliteConstraintUnique     = 2067
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintForeignKey = 787
	pgUniqueViolation          = "23505"
	pgForeignKeyViolation      = "23503"
)

// SQLite primary result codes (the low byte of an extended code) that mean
// the database is busy, locked or its file unusable right now.
var sqliteUnavailable = map[int]bool{
	5:  true, // SQLITE_BUSY
	6:  true, // SQLITE_LOCKED
	8:  true, // SQLITE_READONLY (the file's permissions changed under us)
	10: true, // SQLITE_IOERR
	13: true, // SQLITE_FULL
	14: true, // SQLITE_CANTOPEN
	15: true, // SQLITE_PROTOCOL
}

// classify turns driver errors into the store's vocabulary, keeping the
// driver error in the chain for logs.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return errors.Join(ErrConflict, err)
		case sqliteConstraintForeignKey:
			return errors.Join(ErrInUse, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			return errors.Join(ErrConflict, err)
		case pgForeignKeyViolation:
			return errors.Join(ErrInUse, err)
		}
	}
	if unavailable(err) {
		return errors.Join(ErrUnavailable, err)
	}
	return err
}

// IsUnavailable reports whether err means the database could not serve the
// request for now (unreachable, restarting, locked, out of time), as
// opposed to a bug or bad data. It looks at the driver errors themselves,
// so errors that did not pass through classify are recognised too. A
// cancelled context (the caller went away) is not an outage.
func IsUnavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || unavailable(err)
}

func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqliteUnavailable[se.Code()&0xff]
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pgUnavailable(pe.Code)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// pgUnavailable: connection exceptions (08), insufficient resources (53),
// operator intervention (57: shutdown, cannot connect now, statement
// cancelled by timeout) and lock_not_available.
func pgUnavailable(code string) bool {
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") || strings.HasPrefix(code, "57") || code == "55P03"
}
