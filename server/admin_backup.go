package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// POST /v1/admin/backup answers with a consistent copy of the store's database (an SQLite
// file), taken while the server goes on serving (store.Backuper). The copy is written to a
// temporary file next to the database, so it needs as much free space there as the
// database takes; it is sent and then removed. It goes through the server, not a tool
// opening the file beside it, because only the process that writes the database can copy
// it consistently without stopping, and a restored copy must change its streams' epochs
// (docs/DEPLOYMENT.md, "Backup and restore").
//
// Its answer is a file, not JSON (adminFileRoute, not adminRoute); it holds the request lock
// (reqMu) only while the copy is made, so sending a large file to a slow client never holds
// up a shutdown.

// backupContentType is the media type of an SQLite database file.
const backupContentType = "application/vnd.sqlite3"

func (s *Server) adminBackup(w http.ResponseWriter, r *http.Request) int {
	key, ok := s.adminAuth(r)
	if !ok {
		return refuseAdmin(w)
	}
	b, ok := s.cfg.Store.(store.Backuper)
	if !ok {
		return writeAdminError(w, wire.Errorf(wire.CodeNotImplemented,
			"this server's store makes no backups itself: back a PostgreSQL database up with pg_dump (docs/DEPLOYMENT.md, \"Backup and restore\")"))
	}
	// One at a time: each needs the database's size in free space.
	if !s.backupMu.TryLock() {
		return writeAdminError(w, wire.Errorf(wire.CodeConflict, "a backup is being taken already; retry when it is done"))
	}
	defer s.backupMu.Unlock()
	path, err := s.takeBackup(r.Context(), b)
	if err != nil {
		var we *wire.Error
		switch {
		case r.Context().Err() != nil:
			// The caller went away: nobody to answer, and nothing went wrong here.
			s.log.Info("backup abandoned: the caller went away", "key", key)
			we = wire.Errorf(wire.CodeUnavailable, "the backup was abandoned")
		case !errors.As(err, &we):
			s.log.Error("backup failed", "err", err)
			s.metrics.internalError("admin")
			we = wire.Errorf(wire.CodeInternal, "the backup failed; the server log has details")
		}
		return writeAdminError(w, we)
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		s.log.Error("backup failed: opening the copy", "err", err)
		return writeAdminError(w, wire.Errorf(wire.CodeInternal, "the backup failed; the server log has details"))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.log.Error("backup failed: reading the copy's size", "err", err)
		return writeAdminError(w, wire.Errorf(wire.CodeInternal, "the backup failed; the server log has details"))
	}
	h := w.Header()
	h.Set("Content-Type", backupContentType)
	h.Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="convo-%s.db"`, fi.ModTime().UTC().Format("20060102T150405Z")))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// Past the header, a failure can only cut the body short; the client sees fewer bytes
	// than Content-Length.
	if n, err := io.Copy(w, f); err != nil {
		s.log.Warn("sending a backup failed", "key", key, "sent", n, "size", fi.Size(), "err", err)
		return http.StatusOK
	}
	s.log.Info("backup sent", "key", key, "size", fi.Size())
	return http.StatusOK
}

// takeBackup writes the copy to a new temporary file in the store's backup folder.
func (s *Server) takeBackup(ctx context.Context, b store.Backuper) (string, error) {
	s.reqMu.RLock()
	defer s.reqMu.RUnlock()
	if s.closed {
		return "", wire.Errorf(wire.CodeUnavailable, "server is shutting down; retry later")
	}
	f, err := os.CreateTemp(b.BackupDir(), "convo-backup-*.db.tmp")
	if err != nil {
		return "", err
	}
	path := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", err
	}
	if err := b.Backup(ctx, path); err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}
