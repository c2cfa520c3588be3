package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"sync"
)

// walSync makes SQLite commits durable after the fact, many at a time.
//
// Transactions commit with synchronous = NORMAL: in WAL mode the commit
// writes its frames to the log but does not fsync it. A transaction that
// must be on disk before it is answered then calls Sync, which fsyncs the
// log outside the write connection, so the next writer does not wait for
// the disk, and callers that arrive while an fsync runs share the next one
// (group commit). That is what synchronous = FULL does inside COMMIT:
// fsync the log after the transaction's frames. A checkpoint that moved
// the frames into the database first synced both files itself. SQLite has
// no group commit of its own, so it is written here.
type walSync struct {
	db, wal string       // the database and its write-ahead log
	fsync   func() error // flushes them: fsyncFiles, or a test's

	mu      sync.Mutex
	cond    sync.Cond
	running bool
	started uint64 // fsyncs begun
	done    uint64 // the last fsync finished
	err     error  // its result
}

func newWALSync(path string) *walSync {
	w := &walSync{db: path, wal: path + "-wal"}
	w.fsync = w.fsyncFiles
	w.cond.L = &w.mu
	return w
}

// Sync returns once every commit made before the call is on disk.
func (w *walSync) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	// An fsync already running may have begun before the caller's commit
	// reached the log: only one that starts after this call will do.
	want := w.started + 1
	for w.done < want {
		if w.running {
			w.cond.Wait()
			continue
		}
		w.running = true
		w.started++
		n := w.started
		w.mu.Unlock()
		err := w.fsync()
		w.mu.Lock()
		w.running, w.done, w.err = false, n, err
		w.cond.Broadcast()
	}
	return w.err
}

// fsyncFiles flushes the log, or the database when there is no log
// (every frame was checkpointed and the log removed).
func (w *walSync) fsyncFiles() error {
	f, err := os.Open(w.wal)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.Open(w.db)
	}
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
