package servertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// SmallVolume mounts a tmpfs of size bytes of its own on a temporary directory and returns
// that directory, for tests of a full disk (pass it as Options.Dir). It is unmounted when the
// test ends, after everything started later (a server on it) is stopped. Mounting needs
// root (CAP_SYS_ADMIN); without it the test is skipped, saying so.
func SmallVolume(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("servertest: cannot mount a %d-byte tmpfs for a full-disk test (needs root or CAP_SYS_ADMIN): %v", size, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("servertest: unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes a file into dir until its filesystem has no space left, and returns the
// function that removes it again.
func Fill(t testing.TB, dir string) (free func()) {
	t.Helper()
	f, err := os.CreateTemp(dir, "fill-*")
	if err != nil {
		t.Fatalf("servertest: fill %s: %v", dir, err)
	}
	// Large writes first, then smaller ones into what is left, down to one byte.
	for chunk := make([]byte, 1<<20); len(chunk) > 0; chunk = chunk[:len(chunk)/2] {
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("servertest: fill %s: %v", dir, err)
				}
				break
			}
		}
	}
	name := f.Name()
	f.Close()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err == nil && st.Bavail != 0 {
		t.Fatalf("servertest: %s still has %d blocks free after filling it", dir, st.Bavail)
	}
	removed := false
	free = func() {
		if removed {
			return
		}
		removed = true
		if err := os.Remove(name); err != nil {
			t.Errorf("servertest: free %s: %v", filepath.Base(name), err)
		}
	}
	t.Cleanup(free)
	return free
}
