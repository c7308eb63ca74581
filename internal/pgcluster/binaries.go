package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// debianBinGlob is where Debian and Ubuntu install the server binaries. They
// are not on PATH there (only psql and friends are, through wrappers), so
// searching PATH alone would miss the most common install.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// installHint tells a developer or CI what to do when no binaries are found.
const installHint = "install them, e.g. `apt-get install postgresql`"

// ErrBinariesNotFound is wrapped by the error FindBinaries and Start return
// when no directory holds all of initdb, pg_ctl and postgres.
var ErrBinariesNotFound = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")

// Binaries locates one PostgreSQL server installation.
type Binaries struct {
	// Dir is the directory all three binaries were found in.
	Dir string
	// Initdb, PgCtl and Postgres are absolute paths of the programs. PgCtl is
	// not needed to run a cluster (the server runs as a direct child), but
	// it is part of every server install, so requiring it keeps a directory
	// that merely holds a stray "postgres" file from being picked, and it is
	// handy for tooling that wants to inspect the cluster.
	Initdb, PgCtl, Postgres string
}

// DefaultBinSearchPath returns where Start looks for the server binaries
// when Options.BinSearchPath is nil: every directory on PATH, then
// /usr/lib/postgresql/*/bin.
func DefaultBinSearchPath() []string {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return append(dirs, defaultBinGlobs...)
}

// defaultBinGlobs is a variable so that tests can pretend the machine has
// no PostgreSQL installed.
var defaultBinGlobs = []string{debianBinGlob}

// FindBinaries returns the first directory of searchPath that holds
// executable initdb, pg_ctl and postgres. Entries are directories or glob
// patterns; the matches of a pattern are tried highest version first (so
// /usr/lib/postgresql/16/bin wins over .../15/bin and .../9.6/bin). A nil
// searchPath means DefaultBinSearchPath(); an empty non-nil one searches
// nothing. The error wraps ErrBinariesNotFound and says what to install.
func FindBinaries(searchPath []string) (Binaries, error) {
	defaulted := searchPath == nil
	if defaulted {
		searchPath = DefaultBinSearchPath()
	}
	for _, entry := range searchPath {
		dirs := []string{entry}
		if strings.ContainsAny(entry, "*?[") {
			matches, err := filepath.Glob(entry)
			if err != nil {
				// A malformed pattern is a caller bug, but it is only one
				// entry: keep looking elsewhere rather than fail outright.
				continue
			}
			sortByVersionDesc(matches)
			dirs = matches
		}
		for _, dir := range dirs {
			if b, ok := binariesIn(dir); ok {
				return b, nil
			}
		}
	}
	if defaulted {
		return Binaries{}, fmt.Errorf("%w on PATH or under %s; %s", ErrBinariesNotFound, debianBinGlob, installHint)
	}
	return Binaries{}, fmt.Errorf("%w in %s; %s", ErrBinariesNotFound, strings.Join(searchPath, string(filepath.ListSeparator)), installHint)
}

// binariesIn reports whether dir holds all three server programs.
func binariesIn(dir string) (Binaries, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Binaries{}, false
	}
	b := Binaries{
		Dir:      abs,
		Initdb:   filepath.Join(abs, "initdb"),
		PgCtl:    filepath.Join(abs, "pg_ctl"),
		Postgres: filepath.Join(abs, "postgres"),
	}
	for _, p := range []string{b.Initdb, b.PgCtl, b.Postgres} {
		if !isExecutable(p) {
			return Binaries{}, false
		}
	}
	return b, true
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// sortByVersionDesc orders paths by the numbers in them, highest first, so
// that "16" sorts above "9.6" (which a string sort would get wrong).
func sortByVersionDesc(paths []string) {
	sort.SliceStable(paths, func(i, j int) bool {
		return compareVersions(versionNumbers(paths[i]), versionNumbers(paths[j])) > 0
	})
}

// versionNumbers extracts every run of digits in s, in order.
func versionNumbers(s string) []int {
	var nums []int
	start := -1
	for i := 0; i <= len(s); i++ {
		isDigit := i < len(s) && s[i] >= '0' && s[i] <= '9'
		switch {
		case isDigit && start < 0:
			start = i
		case !isDigit && start >= 0:
			n, err := strconv.Atoi(s[start:i])
			if err != nil {
				// Absurdly long digit runs overflow; treat them as huge.
				n = int(^uint(0) >> 1)
			}
			nums = append(nums, n)
			start = -1
		}
	}
	return nums
}

func compareVersions(a, b []int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}
