package sqlite

import (
	"time"
)

// checkpointEvery is the most often checkpointLoop copies the WAL into the database.
const checkpointEvery = time.Second

// walRestartFrames is the WAL length (in frames) past which the committer finishes the
// checkpoint itself, so that the WAL starts over (finishCheckpoint).
const walRestartFrames = 4096

// walSizeLimit is what a WAL that a burst made longer is cut back to when it starts over.
const walSizeLimit = 64 << 20

// checkpointLoop copies committed WAL pages into the database file after commits, beside
// the writer: a PASSIVE checkpoint neither waits for nor blocks writers and readers.
// Durability does not depend on it: every commit is synced in the WAL.
func (s *Store) checkpointLoop(every time.Duration) {
	defer close(s.checkpointDone)
	if every < 0 {
		<-s.stop
		return
	}
	for {
		select {
		case <-s.stop:
			return
		case <-s.committed:
		}
		var busy, frames, copied int
		err := s.cp.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		if err != nil {
			s.log.Warn("checkpointing the WAL failed", "err", err)
		} else {
			s.space.reserve() // the checkpoint may have lengthened the database file
			if frames >= walRestartFrames {
				select {
				case s.finishCkpt <- struct{}{}:
				default:
				}
			}
		}
		select {
		case <-s.stop:
			return
		case <-time.After(every):
		}
	}
}

// finishCheckpoint copies what the writes since checkpointLoop's last checkpoint added, on
// the writer's connection between two transactions. The WAL starts over only when a write
// begins with all of it copied, which under steady writes never happens beside the writer:
// commits land while a checkpoint runs. Without it the WAL grows as long as the load lasts
// (to 1.3 GB in a minute of fan-out), and syncing a growing file costs more than syncing
// one rewritten in place.
func (s *Store) finishCheckpoint() {
	if _, err := s.w.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		s.log.Warn("checkpointing the WAL failed", "err", err)
	}
}

// noteCommit wakes the checkpointer; it never blocks.
func (s *Store) noteCommit() {
	select {
	case s.committed <- struct{}{}:
	default:
	}
}
