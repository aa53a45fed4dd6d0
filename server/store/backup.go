package store

import "context"

// Backuper is a store that copies itself while it serves: the copy is one consistent
// snapshot, taken while writes go on. The SQLite store is one; a PostgreSQL database is
// backed up with pg_dump instead (docs/DEPLOYMENT.md).
//
// A copy remembers that it is one: the first Open of a restored copy changes the epoch of
// every stream, so a client that saw events newer than the snapshot resynchronises instead
// of being served a stream that went back in time.
type Backuper interface {
	// Backup writes the copy to path, which must not exist yet.
	Backup(ctx context.Context, path string) error
	// BackupDir is a folder on the database's own filesystem for a backup's temporary file.
	BackupDir() string
}
