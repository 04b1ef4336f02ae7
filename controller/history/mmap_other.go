//go:build !unix

package history

import "os"

// mapFile reads f into memory (no mmap here); release does nothing.
func mapFile(f *os.File) ([]byte, func(), error) { return readWhole(f) }
