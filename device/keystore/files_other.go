//go:build !unix

package keystore

import (
	"io/fs"
	"os"
)

// openWithoutWaiting opens path for reading. Outside Unix no file in a
// directory can be a pipe that blocks its opener.
func openWithoutWaiting(path string) (*os.File, error) { return os.Open(path) }

// currentUID is unknown outside Unix, where access is a matter of ACLs.
var currentUID = func() int { return -1 }

// fileOwner reports no owner: the keystore checks owners on Unix only.
func fileOwner(fs.FileInfo) (uid int, known bool) { return 0, false }
