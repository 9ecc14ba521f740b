//go:build unix

package keystore

import (
	"io/fs"
	"os"
	"syscall"
)

// openWithoutWaiting opens path for reading without letting open(2) wait:
// a named pipe put where a key belongs would otherwise hold the phone
// until something writes to it, deaf to signals. The caller refuses what
// is not a regular file (or directory) by its fstat.
func openWithoutWaiting(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// currentUID is the user whose files the keystore accepts. Tests replace
// it to play a file of someone else's without being root.
var currentUID = os.Getuid

// fileOwner is the user who owns the file info describes.
func fileOwner(info fs.FileInfo) (uid int, known bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
