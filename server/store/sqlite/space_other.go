//go:build !linux

package sqlite

import (
	"errors"
	"os"
)

// Elsewhere the files grow as SQLite writes them; see space.go.

func reserveSpace(*os.File, int64) error {
	return errors.ErrUnsupported
}

func fileSpace(*os.File) (int64, int64, int64, error) {
	return 0, 0, 0, errors.ErrUnsupported
}
