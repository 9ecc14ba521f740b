package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockName is the file a running server holds locked in its data
// directory. Two servers on one database would each believe they own the
// outbox, the sweeps and the webhook registrations; the second refuses to
// start instead.
const lockName = "pushsim.lock"

// errLocked is what tryLock reports when another process holds the lock.
var errLocked = errors.New("locked")

// lockDir takes the data directory's lock for this process, or says which
// process has it. The lock goes with the process, so a crashed server
// leaves nothing to clean up.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := tryLock(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, errLocked) {
			who := "another pushsim"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(holder))); perr == nil {
				who += " (process " + strconv.Itoa(pid) + ")"
			}
			return nil, fmt.Errorf("data directory %s is in use by %s: stop it, or give this one its own --data or --memory", dir, who)
		}
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
