//go:build !linux

package servertest

import "testing"

// SmallVolume skips the test: mounting a small filesystem is done on Linux only.
func SmallVolume(t testing.TB, size int64) string {
	t.Skip("servertest: a small volume for full-disk tests is mounted on Linux only")
	return ""
}

// Fill is not reached: SmallVolume skips first.
func Fill(t testing.TB, dir string) func() {
	t.Skip("servertest: filling a volume is done on Linux only")
	return func() {}
}
