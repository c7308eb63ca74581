//go:build !unix

package pgtest

import "os"

// lockDir is a no-op where flock is unavailable.
func lockDir(dir string) (*os.File, error) { return nil, nil }

// removeAbandonedDirs is a no-op where flock is unavailable.
func removeAbandonedDirs(parent string) {}
