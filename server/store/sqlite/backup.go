package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/convo-sdk/convo/server/store"
)

// Backups and restores.
//
// Backup copies the database with VACUUM INTO on a connection of its own: the copy is the
// snapshot of one read transaction, so writes go on meanwhile (WAL) and none is half in it.
// It then writes a restore mark into the copy. A restored copy is behind what clients have
// seen: their streams' offsets went back. So the first Open that finds the mark gives every
// stream a new epoch and deletes the mark in one transaction: every client resuming
// afterwards is told to resynchronise (docs/PROTOCOL.md), never served offsets it has seen
// with other events under them. Later Opens find no mark and keep the epochs.

var _ store.Backuper = (*Store)(nil)

// Backup writes a consistent copy of the database to path, which must not exist or be
// empty. It is for one file on the database's filesystem (BackupDir): a failure leaves no
// file behind.
func (s *Store) Backup(ctx context.Context, path string) (err error) {
	if fi, err := os.Stat(path); err == nil && (fi.Size() > 0 || !fi.Mode().IsRegular()) {
		return fmt.Errorf("sqlite: backup to %s: the file exists and is not empty", path)
	}
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	q := url.Values{"_pragma": {"busy_timeout(10000)"}}
	src, err := sql.Open("sqlite", "file:"+s.path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", path, err)
	}
	if err := src.Close(); err != nil {
		return err
	}
	return markRestore(ctx, path)
}

// BackupDir is the database file's folder.
func (s *Store) BackupDir() string { return filepath.Dir(s.path) }

// markRestore writes the restore mark into the copy at path. The copy stays one file
// (rollback journal, not WAL) and the mark's commit syncs it to disk.
func markRestore(ctx context.Context, path string) error {
	q := url.Values{"_pragma": {"busy_timeout(10000)", "journal_mode(DELETE)", "synchronous(FULL)"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `INSERT INTO restore_marks (taken) VALUES (?)`, time.Now().UnixMilli())
	if err = errors.Join(err, db.Close()); err != nil {
		return fmt.Errorf("sqlite: marking the backup %s: %w", path, err)
	}
	return nil
}

// clearRestoreMark gives every stream a new epoch if the database is a restored backup, and
// deletes the mark.
func (s *Store) clearRestoreMark() error {
	tx, err := s.w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	var taken sql.NullInt64
	if err := tx.QueryRow(`SELECT COUNT(*), MAX(taken) FROM restore_marks`).Scan(&n, &taken); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	res, err := tx.Exec(`UPDATE streams SET epoch = lower(hex(randomblob(8)))`)
	if err != nil {
		return err
	}
	streams, _ := res.RowsAffected()
	if _, err := tx.Exec(`DELETE FROM restore_marks`); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.log.Info("sqlite: the database is a restored backup: every stream has a new epoch, so clients resynchronise",
		"backup_taken", time.UnixMilli(taken.Int64).UTC(), "streams", streams)
	return nil
}
