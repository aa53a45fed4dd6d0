package mediastore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempPrefix names the files of uploads in progress in a Local folder.
const tempPrefix = ".upload-"

// Local keeps media as files named by sid in a folder, and the URL key in a file beside
// them. Nodes of a cluster using it must share the folder.
type Local struct {
	dir, keyFile string
}

// NewLocal uses (and creates, 0700) dir for the media and keyFile for the URL key.
func NewLocal(dir, keyFile string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Local{dir: dir, keyFile: keyFile}, nil
}

func (l *Local) String() string { return "folder " + l.dir }

// Put writes to a temporary file and renames it to sid once complete.
func (l *Local) Put(_ context.Context, sid string, r io.Reader, _ int64, _ string) (int64, error) {
	tmp, err := os.CreateTemp(l.dir, tempPrefix+"*")
	if err != nil {
		return 0, failed(err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	src := &source{r: r}
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return src.n, src.blame(err)
	}
	if err := os.Rename(tmp.Name(), l.path(sid)); err != nil {
		return src.n, failed(err)
	}
	return src.n, nil
}

func (l *Local) Open(_ context.Context, sid string) (Object, error) {
	f, err := os.Open(l.path(sid))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return f, nil
}

func (l *Local) Remove(_ context.Context, sid string) error {
	if err := os.Remove(l.path(sid)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// path is where sid's file lives; a sid with a path separator never leaves the folder.
func (l *Local) path(sid string) string {
	return filepath.Join(l.dir, filepath.Base(filepath.Clean("/"+sid)))
}

// SweepIncomplete removes temporary upload files last written before the given time.
func (l *Local) SweepIncomplete(_ context.Context, before time.Time) error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue
		}
		if err := os.Remove(filepath.Join(l.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// URLKey reads the key file, creating it (0600) on first use. Nodes sharing the folder
// race to create it: written under a temporary name and linked into place, the key appears
// whole, and a node that loses the race uses the winner's.
func (l *Local) URLKey(ctx context.Context) ([]byte, error) {
	b, err := os.ReadFile(l.keyFile)
	if err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) < 16 {
			return nil, fmt.Errorf("%s: want at least 32 hex digits", l.keyFile)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k := make([]byte, urlKeyBytes)
	_, _ = rand.Read(k)
	tmp, err := os.CreateTemp(filepath.Dir(l.keyFile), ".media.key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), l.keyFile); errors.Is(err, os.ErrExist) {
		return l.URLKey(ctx)
	} else if err != nil {
		return nil, err
	}
	return k, nil
}
