//go:build unix

package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// A test binary that crashes (a panic, a -timeout) never reaches the end of
// Main, so its temp dir stays behind; the kernel still stops its server
// through the parent-death signal. Each binary therefore holds an flock on
// a file in its dir for as long as it lives, and the next binary removes
// the dirs whose lock nobody holds.

const lockName = "owner.lock"

// lockDir creates and locks dir's lock file. The file is locked under a
// temporary name and then renamed into place, so another binary never sees
// a lock file that is not locked yet.
func lockDir(dir string) (*os.File, error) {
	tmp := filepath.Join(dir, lockName+".new")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, lockName)); err != nil {
		f.Close()
		return nil, fmt.Errorf("placing the lock file: %w", err)
	}
	return f, nil
}

// removeAbandonedDirs removes the pgtest dirs under parent whose binary has
// died. It is best effort: a dir that cannot be judged is left alone.
func removeAbandonedDirs(parent string) {
	dirs, err := filepath.Glob(filepath.Join(parent, tempDirPrefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		f, err := os.Open(filepath.Join(dir, lockName))
		if err != nil {
			continue // no lock file yet (being created) or not ours
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			// The owner is gone. If its server was SIGKILLed too,
			// postmaster.pid remains and some process may still be using
			// the files: leave that rare case alone.
			if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); os.IsNotExist(err) {
				_ = os.RemoveAll(dir)
			}
		}
		f.Close()
	}
}
