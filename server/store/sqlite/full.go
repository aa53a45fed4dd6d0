package sqlite

import (
	"errors"
	"fmt"
	"syscall"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/convo-sdk/convo/server/store"
)

// lowSpace is the free space under which an I/O error of a write is put down to a full
// disk: SQLite reports some writes that find no room (growing the WAL index, a short
// write) as SQLITE_IOERR rather than SQLITE_FULL.
const lowSpace = 1 << 20

// full marks a write's error as store.ErrFull when the disk is full, so the server answers
// "storage full, retry later" rather than an internal error. Nothing of a failed write is
// applied (commitBatch rolls it back), and the writer takes the next write as usual, so
// writes succeed again as soon as space is freed.
func (s *Store) full(err error) error {
	if err == nil || errors.Is(err, store.ErrFull) || !s.diskFull(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrFull, err)
}

func (s *Store) diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary code; the rest tells which I/O failed
	case sqlite3.SQLITE_FULL:
		return true
	case sqlite3.SQLITE_IOERR:
		if s.space.db == nil {
			return false
		}
		_, _, free, err := fileSpace(s.space.db)
		return err == nil && free < lowSpace
	}
	return false
}
