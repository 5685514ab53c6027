package store

import (
	"errors"

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
)

// SQLite extended result codes and PostgreSQL SQLSTATEs that carry meaning.
const (
	sqliteConstraintUnique     = 2067
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintForeignKey = 787
	pgUniqueViolation          = "23505"
	pgForeignKeyViolation      = "23503"
)

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
	return err
}
