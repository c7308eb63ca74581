//go:build linux

package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is the unprivileged OS account that runs initdb and postgres when
// this process is root.
type account struct {
	name     string
	uid, gid uint32
	groups   []uint32
}

// serverAccount returns the account to run the server as: nil (this
// process's own) unless we are root, since initdb and postgres refuse to
// run as root.
func serverAccount(name string) (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	if name == "" {
		name = DefaultOSUser
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: this process runs as root, where initdb and postgres refuse to run, and the account %q to run them as is missing: %w; create it (installing PostgreSQL does) or run as a non-root user", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: account %q has a non-numeric uid %q", name, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: account %q has a non-numeric gid %q", name, u.Gid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("pgcluster: account %q is root; initdb and postgres need an unprivileged account", name)
	}
	a := &account{name: name, uid: uint32(uid), gid: uint32(gid)}
	// Supplementary groups matter: they can make a directory traversable
	// and a key file readable. Without them the child would keep root's.
	gids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("pgcluster: listing the groups of account %q: %w", name, err)
	}
	for _, g := range gids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			continue
		}
		a.groups = append(a.groups, uint32(n))
	}
	return a, nil
}

// canSearch reports whether a may traverse a directory with the given
// owner and mode, by the classic Unix rule: the owner's bits apply to the
// owner, the group's to members, the others' to everybody else. ACLs are
// not consulted, so a directory opened up only through an ACL is refused.
func (a *account) canSearch(st *syscall.Stat_t) bool {
	mode := st.Mode
	switch {
	case st.Uid == a.uid:
		return mode&0o100 != 0
	case a.inGroup(st.Gid):
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

func (a *account) inGroup(gid uint32) bool {
	if gid == a.gid {
		return true
	}
	for _, g := range a.groups {
		if g == gid {
			return true
		}
	}
	return false
}

// prepareDataDir creates the data dir and any missing parents, makes sure
// the server account can reach and own it, and returns its absolute,
// symlink-free path (postgres is given that path, so that is the one
// whose ancestors must be traversable).
func prepareDataDir(dir string, acct *account) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("pgcluster: data dir %q: %w", dir, err)
	}
	created, err := mkdirAllTracked(abs)
	if err != nil {
		return "", err
	}
	resolved, err := prepareCreated(abs, created, acct)
	if err != nil {
		// Leave no empty dirs behind from an attempt that could not run.
		for i := len(created) - 1; i >= 0; i-- {
			_ = os.Remove(created[i])
		}
		return "", err
	}
	return resolved, nil
}

// prepareCreated is the part of prepareDataDir that follows creating the
// directories (listed in created, which it may open up for acct).
func prepareCreated(abs string, created []string, acct *account) (string, error) {
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("pgcluster: data dir %s: %w", abs, err)
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		return "", fmt.Errorf("pgcluster: data dir %s: %w", resolved, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("pgcluster: data dir %s is not a directory", resolved)
	}
	// Parents we created are ours to open up, whatever the umask made of
	// them; existing ones belong to someone else and are only checked.
	ours := map[string]bool{}
	for _, d := range created {
		if r, err := filepath.EvalSymlinks(d); err == nil && r != resolved {
			ours[r] = true
		}
	}
	if acct != nil {
		if err := checkTraversable(resolved, acct, ours); err != nil {
			return "", err
		}
		if err := chownTree(resolved, acct); err != nil {
			return "", err
		}
	}
	// postgres refuses a data dir that others can read: 0700 or 0750.
	if perm := fi.Mode().Perm(); perm != 0o700 && perm != 0o750 {
		if err := os.Chmod(resolved, 0o700); err != nil {
			return "", fmt.Errorf("pgcluster: restricting data dir permissions: %w", err)
		}
	}
	return resolved, nil
}

// mkdirAllTracked is os.MkdirAll that reports the directories it created,
// outermost first. The data dir itself is created 0700, parents 0755.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pgcluster: data dir %s: %w", dir, err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		perm := os.FileMode(0o755)
		if d == dir {
			perm = 0o700
		}
		if err := os.Mkdir(d, perm); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // Someone else made it meanwhile: not ours.
			}
			return nil, fmt.Errorf("pgcluster: creating data dir: %w", err)
		}
		created = append(created, d)
	}
	return created, nil
}

// checkTraversable makes sure acct can traverse every directory above
// dataDir, from / down, chmodding to 0755 the ones in ours (which this
// package created) and failing with the first other that blocks it.
func checkTraversable(dataDir string, acct *account, ours map[string]bool) error {
	var ancestors []string
	for d := filepath.Dir(dataDir); ; d = filepath.Dir(d) {
		ancestors = append(ancestors, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(ancestors) - 1; i >= 0; i-- {
		d := ancestors[i]
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || acct.canSearch(st) {
			continue
		}
		if ours[d] {
			if err := os.Chmod(d, 0o755); err != nil {
				return fmt.Errorf("pgcluster: making %s traversable: %w", d, err)
			}
			continue
		}
		return fmt.Errorf("pgcluster: data dir %s is out of reach of the %q account (uid %d) that runs PostgreSQL because this process is root: it cannot traverse directory %s (mode %04o, owner uid %d, group gid %d); make that directory traversable (e.g. chmod o+x %s) or put the data dir elsewhere",
			dataDir, acct.name, acct.uid, d, fi.Mode().Perm(), st.Uid, st.Gid, d)
	}
	return nil
}

// chownTree gives acct everything under dir that it does not own yet (all
// of it for a fresh dir, nothing for one it ran before).
func chownTree(dir string, acct *account) error {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // Removed meanwhile (a leftover server exiting).
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Uid == acct.uid && st.Gid == acct.gid {
			return nil
		}
		if err := os.Lchown(path, int(acct.uid), int(acct.gid)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgcluster: handing data dir %s to %s: %w", dir, acct.name, err)
	}
	return nil
}
