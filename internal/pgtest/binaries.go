package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// debianBinGlob is where Debian's postgresql packages put the server programs, one folder
// per major version.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// EnvBinDir names a folder holding initdb and postgres, to use instead of Debian's.
const EnvBinDir = "CONVO_PG_BIN"

// ErrNoBinaries: no PostgreSQL server programs were found on this machine.
var ErrNoBinaries = errors.New("pgtest: PostgreSQL server binaries (initdb, postgres) not found in $" + EnvBinDir +
	" or " + debianBinGlob + "; install the postgresql package (scripts/install-test-deps.sh does)")

// findBinDir returns the folder with initdb and postgres: $CONVO_PG_BIN, else the newest
// Debian major version installed.
func findBinDir() (string, error) {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		if hasServer(dir) {
			return dir, nil
		}
		return "", ErrNoBinaries
	}
	dirs, _ := filepath.Glob(debianBinGlob) // the pattern is valid
	slices.SortFunc(dirs, func(a, b string) int { return majorVersion(b) - majorVersion(a) })
	for _, dir := range dirs {
		if hasServer(dir) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// majorVersion reads the version out of /usr/lib/postgresql/<version>/bin; 0 when it is no
// number.
func majorVersion(binDir string) int {
	v, _ := strconv.Atoi(strings.TrimSpace(filepath.Base(filepath.Dir(binDir))))
	return v
}
