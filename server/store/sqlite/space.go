package sqlite

import (
	"errors"
	"log/slog"
	"os"
)

// Disk space reserved ahead of the files' growth.
//
// A durable commit syncs the WAL. On ext4 (data=ordered) that sync commits the
// filesystem's journal, which first writes out the data of every block allocated since the
// last journal commit: the pages a checkpoint appended to the database file, the frames
// that lengthened the WAL. Under steady writes the commit then waits for megabytes it never
// wrote; measured on the fan-out load, single COMMITs took 20-815 ms where they otherwise
// take under 6 ms. Blocks allocated beforehand (fallocate, keeping the files' sizes) turn
// those writes into overwrites, which a journal commit does not wait for. With the files
// reserved, the slowest COMMIT of two runs of that load took 18 and 9 ms.
//
// The reservation never changes what SQLite sees: the files keep their sizes. Where the
// filesystem cannot reserve (fallocate unsupported), reserving stops after the first try;
// another failure (a full disk) is logged once and tried again after the next checkpoint.

// How far past its size a file is kept allocated: half its size, within these bounds (so a
// small store reserves little). It is topped up when less than half of that is left.
var (
	minReserveAhead int64 = 1 << 20
	maxReserveAhead int64 = 64 << 20
)

// reserveShare bounds a reservation by the filesystem's free space: a top-up takes at most
// 1/reserveShare of what is free, so reserving never fills a disk that SQLite needs.
const reserveShare = 8

type spaceReserver struct {
	// The files stay open for the store's life: closing a descriptor of the database file
	// would drop the POSIX locks SQLite holds on it in this process.
	db, wal *os.File
	log     *slog.Logger
	off     bool // the filesystem cannot reserve
	warned  bool // a failure was logged (a full disk would log one every checkpoint)
}

// openSpaceReserver opens the database file and its WAL (which exists once the store has
// written) for reserving.
func openSpaceReserver(path string, log *slog.Logger) *spaceReserver {
	r := &spaceReserver{log: log}
	var err error
	if r.db, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		log.Info("not reserving disk space for the database", "err", err)
		r.off = true
		return r
	}
	if r.wal, err = os.OpenFile(path+"-wal", os.O_RDWR, 0); err != nil {
		r.wal = nil // reserved for the database file alone
	}
	return r
}

// reserve tops up the reservations. The WAL's is capped at its length between restarts
// (walRestartFrames): past that it starts over and overwrites what it has.
func (r *spaceReserver) reserve() {
	if r.off {
		return
	}
	err := r.keep(r.db, 0)
	if err == nil && r.wal != nil {
		err = r.keep(r.wal, walRestartBytes)
	}
	switch {
	case errors.Is(err, errors.ErrUnsupported): // ENOTSUP, EOPNOTSUPP, ENOSYS: never will
		r.log.Info("not reserving disk space for the database: the filesystem cannot", "err", err)
		r.off = true
	case err != nil && !r.warned: // ENOSPC, EIO…: tried again after the next checkpoint
		r.log.Warn("reserving disk space for the database failed", "err", err)
		r.warned = true
	}
}

// walRestartBytes is the WAL's length when the committer makes it start over (4 KiB pages,
// SQLite's default, and a 24-byte header per frame, after the 32-byte file header).
const walRestartBytes = 32 + walRestartFrames*(4096+24)

// reserveTarget is how much of a file of size bytes should be allocated; limit, when not
// zero, caps it (but never below size).
func reserveTarget(size, limit int64) int64 {
	t := size + min(max(size/2, minReserveAhead), maxReserveAhead)
	if limit > 0 {
		t = max(size, min(t, limit))
	}
	return t
}

// keep tops f's allocation up to reserveTarget when less than half of the reservation is
// left, if the filesystem has room to spare.
func (r *spaceReserver) keep(f *os.File, limit int64) error {
	size, allocated, free, err := fileSpace(f)
	if err != nil {
		return err
	}
	target := reserveTarget(size, limit)
	if allocated >= size+(target-size)/2 || (target-allocated)*reserveShare > free {
		return nil
	}
	return reserveSpace(f, target)
}

func (r *spaceReserver) close() error {
	var errs []error
	for _, f := range []*os.File{r.db, r.wal} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}
