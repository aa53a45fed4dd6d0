package sqlite

import (
	"os"
	"syscall"
)

// fallocKeepSize is FALLOC_FL_KEEP_SIZE: allocate without changing the file's size.
const fallocKeepSize = 0x1

func reserveSpace(f *os.File, upTo int64) error {
	return syscall.Fallocate(int(f.Fd()), fallocKeepSize, 0, upTo)
}

// fileSpace is f's size, the bytes allocated to it and the bytes free on its filesystem.
func fileSpace(f *os.File) (size, allocated, free int64, err error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return 0, 0, 0, err
	}
	var fs syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &fs); err != nil {
		return 0, 0, 0, err
	}
	return st.Size, st.Blocks * 512, int64(fs.Bavail) * fs.Bsize, nil
}
