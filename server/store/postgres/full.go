package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// codeDiskFull is SQLSTATE 53100 (disk_full): PostgreSQL could not extend a file. The
// statement failed and its transaction rolled back; the same write succeeds once space is
// freed.
const codeDiskFull = "53100"

// diskFull reports an error that says the database's disk is full.
func diskFull(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeDiskFull
}
