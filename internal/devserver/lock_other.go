//go:build !unix

package devserver

// lockDataDir does nothing where flock is not available; there, keeping
// two servers off one data directory is up to the developer.
func lockDataDir(string) (release func() error, err error) {
	return func() error { return nil }, nil
}
