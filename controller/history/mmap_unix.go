//go:build unix

package history

import (
	"os"
	"syscall"
)

// mapFile maps f read-only into memory; release unmaps it.
func mapFile(f *os.File) ([]byte, func(), error) {
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := info.Size()
	if size <= 0 || size != int64(int(size)) {
		return readWhole(f)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readWhole(f)
	}
	return data, func() { syscall.Munmap(data) }, nil
}
