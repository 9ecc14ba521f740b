//go:build unix

package keystore

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestNamedPipeIsRefusedWithoutWaiting: a named pipe put in place of a key,
// a factor record, the settings or the factors directory is refused at
// once with an error naming it, instead of holding the phone in open(2)
// until something writes to the pipe.
func TestNamedPipeIsRefusedWithoutWaiting(t *testing.T) {
	home := filepath.Join(t.TempDir(), "phone")
	s := openStore(t, home)
	f, _ := enroll(t, s, "YF01", time.Now())
	if err := s.SetTimeCorrection(1); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, detail string
		call               func() error
	}{
		{"key", s.keyPath(f.KeyAlias), "is a named pipe, not a regular file; the keystore never writes one (remove it)",
			func() error { _, err := s.Key(f.KeyAlias); return err }},
		{"factor record", s.factorPath(f.Sid), "is a named pipe, not a regular file; the keystore never writes one (remove it)",
			func() error { _, err := s.Factors(); return err }},
		{"settings", s.settingsPath(), "is a named pipe, not a regular file; the keystore never writes one (remove it)",
			func() error { _, err := s.Settings(); return err }},
		{"factors directory", s.factorsDir(), "is a named pipe, not a directory (remove it)",
			func() error { _, err := s.Factors(); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.RemoveAll(tc.path); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(tc.path, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(tc.path) })
			done := make(chan error, 1)
			go func() { done <- tc.call() }()
			select {
			case err := <-done:
				assertFileError(t, err, tc.path, ProblemPermissions, "keystore: "+tc.path+": "+tc.detail)
			case <-time.After(10 * time.Second):
				// Opening the writing end lets the stuck reader go.
				if w, err := os.OpenFile(tc.path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					w.Close()
				}
				t.Fatalf("still waiting on the named pipe %s after 10 s", tc.path)
			}
		})
	}
}

// TestFilesOfAnotherUserAreRefused: a home, key, record or settings file
// owned by someone else is refused whatever its mode, with what to do.
// The owner is played through currentUID, so no root is needed.
func TestFilesOfAnotherUserAreRefused(t *testing.T) {
	home := filepath.Join(t.TempDir(), "phone")
	s := openStore(t, home)
	f, _ := enroll(t, s, "YF01", time.Now())
	if err := s.SetTimeCorrection(1); err != nil {
		t.Fatal(err)
	}
	me := os.Getuid()
	someoneElse := me + 1
	currentUID = func() int { return someoneElse }
	t.Cleanup(func() { currentUID = os.Getuid })

	owned := func(path, fix string) string {
		return "keystore: " + path + ": is owned by user " + strconv.Itoa(me) + ", not by you (user " + strconv.Itoa(someoneElse) +
			"): its owner could read or replace the phone's keys (" + fix + ")"
	}
	_, err := Open(home, nil)
	assertFileError(t, err, home, ProblemPermissions, owned(home, "chown -R it to yourself, or give the phone another home"))

	fileFix := "chown it to yourself, or remove it"
	_, err = s.Key(f.KeyAlias)
	assertFileError(t, err, s.keyPath(f.KeyAlias), ProblemPermissions, owned(s.keyPath(f.KeyAlias), fileFix))
	_, err = s.Factors()
	assertFileError(t, err, s.factorPath(f.Sid), ProblemPermissions, owned(s.factorPath(f.Sid), fileFix))
	_, err = s.Settings()
	assertFileError(t, err, s.settingsPath(), ProblemPermissions, owned(s.settingsPath(), fileFix))

	currentUID = os.Getuid
	if _, err := s.Key(f.KeyAlias); err != nil {
		t.Errorf("the owner's own key refused: %v", err)
	}
}

// TestChownedFilesAreRefused: the same with real owners, which takes root
// to set up.
func TestChownedFilesAreRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("giving a file to another user takes root")
	}
	const nobody = 65534
	home := filepath.Join(t.TempDir(), "phone")
	s := openStore(t, home)
	f, _ := enroll(t, s, "YF01", time.Now())
	keyPath := s.keyPath(f.KeyAlias)
	if err := os.Chown(keyPath, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	_, err := s.Key(f.KeyAlias)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != keyPath || fe.Problem != ProblemPermissions {
		t.Errorf("a key owned by user %d: %v", nobody, err)
	}
	if err := os.Chown(home, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	_, err = Open(home, nil)
	if !errors.As(err, &fe) || fe.Path != home || fe.Problem != ProblemPermissions {
		t.Errorf("a home owned by user %d: %v", nobody, err)
	}
}
