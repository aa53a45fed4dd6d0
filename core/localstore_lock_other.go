//go:build !js && !unix

package core

import "os"

// lockFile has no lock to take where flock is missing: one process per store is the
// caller's to ensure there.
func lockFile(*os.File) (unlock func(), err error) { return func() {}, nil }
