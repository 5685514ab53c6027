//go:build linux

package guestnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Claim is a running node's hold on its prefix (its locked owner record).
type Claim struct {
	f     *os.File
	Owner Owner
}

// ClaimPrefix records o as the owner of o.Prefix in dir (OwnersDir) and
// holds the record locked until Release or the process's end, however it
// ends. A prefix a running process holds is refused (*InUseError).
func ClaimPrefix(dir string, o Owner) (*Claim, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("owner records: %w", err)
	}
	f, err := os.OpenFile(recordPath(dir, o.Prefix), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("owner record: %w", err)
	}
	// Another process's probe (Owners) holds the lock for an instant.
	for try := 0; ; try++ {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) || try == 20 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		held, _ := readOwner(f)
		f.Close()
		held.Prefix = o.Prefix
		return nil, &InUseError{Owner: held}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock owner record: %w", err)
	}
	b, _ := json.Marshal(o)
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write owner record: %w", err)
	}
	o.Alive = true
	return &Claim{f: f, Owner: o}, nil
}

// Release lets the prefix go; the record stays, naming what the data dir
// left on the host (its guests outlive it) for a later start or reset.
func (c *Claim) Release() {
	if c != nil && c.f != nil {
		c.f.Close()
		c.f = nil
	}
}

// Forget removes the prefix's record: nothing of it is left on the host.
func (c *Claim) Forget(dir string) error {
	err := os.Remove(recordPath(dir, c.Owner.Prefix))
	c.Release()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove owner record: %w", err)
	}
	return nil
}

// Owners lists the records in dir with whether a running process holds
// each.
func Owners(dir string) ([]Owner, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("owner records: %w", err)
	}
	var out []Owner
	for _, e := range ents {
		prefix, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok || !validPrefix.MatchString(prefix) {
			continue
		}
		o, err := probe(recordPath(dir, prefix))
		if err != nil {
			continue // removed meanwhile
		}
		o.Prefix = prefix
		out = append(out, o)
	}
	return out, nil
}

// probe reads a record and finds out whether its lock is held.
func probe(path string) (Owner, error) {
	f, err := os.Open(path)
	if err != nil {
		return Owner{}, err
	}
	defer f.Close()
	o, _ := readOwner(f)
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	o.Alive = errors.Is(err, unix.EWOULDBLOCK)
	// Closing the file drops the shared lock taken when it is dead.
	return o, nil
}

func readOwner(f *os.File) (Owner, error) {
	var o Owner
	b := make([]byte, 4096)
	n, err := f.ReadAt(b, 0)
	if n == 0 {
		return o, err
	}
	return o, json.Unmarshal([]byte(strings.TrimSpace(string(b[:n]))), &o)
}

func recordPath(dir, prefix string) string { return filepath.Join(dir, prefix+".lock") }
