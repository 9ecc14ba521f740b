// Package keystore owns what the simulated phone keeps on disk: one ECDSA
// P-256 private key per factor, the local factor records that point at those
// keys, and a few app settings (the clock correction learned from the server,
// the push registration token and its secret, per-factor silent approval).
//
// Everything lives under one home directory, so deleting that directory is
// "uninstalling the app": the keys and factors are gone locally while the
// server still has the factors. This is a test tool, not an authenticator:
// keys are stored unencrypted, protected only by file permissions.
//
// Layout (directories 0700, files 0600, every write atomic):
//
//	<home>/settings.json
//	<home>/keys/<alias>.pem        PKCS#8 "PRIVATE KEY", alias = 15 x [A-Za-z0-9]
//	<home>/factors/<sha256(sid)>.json
//
// Factor files are named by a hash of the SID, as the Android SDK names its
// entries, so a server-chosen SID can never pick a path.
package keystore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// formatVersion is written into every JSON file; a file without it was not
// written by this package.
const formatVersion = 1

// maxFileSize bounds what the store reads; its own files are a few KB.
const maxFileSize = 1 << 20

const aliasLength = 15

const aliasAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// ErrNotFound reports a factor or key that the store does not hold.
var ErrNotFound = errors.New("not found")

// Problem classifies a FileError.
type Problem string

const (
	// ProblemCorrupt: the file exists but its content is truncated, garbled
	// or not something this package writes.
	ProblemCorrupt Problem = "corrupt"
	// ProblemPermissions: the file or directory is accessible to other users,
	// is owned by another user (on Unix), or is not a regular file or
	// directory.
	ProblemPermissions Problem = "unsafe permissions"
	// ProblemIO: the operating system refused to read or write it.
	ProblemIO Problem = "i/o"
)

// FileError reports a keystore file that cannot be used, naming the file.
type FileError struct {
	Path    string
	Problem Problem
	Detail  string // what is wrong, in words
	Err     error  // the underlying cause, if any
}

func (e *FileError) Error() string {
	msg := fmt.Sprintf("keystore: %s: %s", e.Path, e.Detail)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *FileError) Unwrap() error { return e.Err }

// Factor is the local record of one enrolled factor.
type Factor struct {
	Sid                  string            `json:"sid"`
	FriendlyName         string            `json:"friendly_name"`
	AccountSid           string            `json:"account_sid"`
	ServiceSid           string            `json:"service_sid"`
	Identity             string            `json:"identity"`
	Status               string            `json:"status"`
	CredentialSid        string            `json:"credential_sid"`
	NotificationPlatform string            `json:"notification_platform"`
	NotificationToken    string            `json:"notification_token,omitempty"`
	CreatedAt            time.Time         `json:"date_created"`
	Metadata             map[string]string `json:"metadata,omitempty"`
	KeyAlias             string            `json:"key_alias"`
}

// Settings are the app's small persistent preferences.
type Settings struct {
	// TimeCorrection is server time minus device time, in seconds, learned
	// from the Date header of a 401 while the clock was off by ClockOffset.
	TimeCorrection int64 `json:"time_correction"`
	// ClockOffset is how far the user set the phone's clock off. It is
	// kept with TimeCorrection because a correction is right only for the
	// offset it was learned under: the two are saved and cleared together.
	ClockOffset time.Duration `json:"clock_offset_ns,omitempty"`
	// PushToken is the registration token the phone gives the server as
	// Config.NotificationToken; empty means no push (platform none).
	PushToken string `json:"push_token,omitempty"`
	// PushSecret is what the phone connects to the push service with; the
	// token is derived from it (pushclient.RegistrationToken). Unlike the
	// token, which the server shows to the account, it never leaves the
	// phone otherwise. Empty when the token was not made from a secret here.
	PushSecret string `json:"push_secret,omitempty"`
	// SilentApproval lists the factor SIDs whose pushed challenges are
	// approved without asking while the app is in the foreground.
	SilentApproval []string `json:"silent_approval,omitempty"`
}

// Store is a keystore rooted at one home directory. It is safe for
// concurrent use within one process; two processes must not share a home.
type Store struct {
	dir   string
	alias io.Reader // randomness for key aliases

	mu sync.Mutex // serialises read-modify-write of settings and deletes
}

// Open returns the store in dir, creating dir (0700) and its subdirectories
// if needed. An existing directory that other users can access, or that
// another user owns, is refused.
// aliasRand is the randomness for key aliases; nil means crypto/rand.
func Open(dir string, aliasRand io.Reader) (*Store, error) {
	if dir == "" {
		return nil, errors.New("keystore: no home directory given")
	}
	if aliasRand == nil {
		aliasRand = rand.Reader
	}
	s := &Store{dir: dir, alias: aliasRand}
	for _, d := range []string{dir, s.keysDir(), s.factorsDir()} {
		if err := ensureDir(d); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Dir is the home directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) keysDir() string    { return filepath.Join(s.dir, "keys") }
func (s *Store) factorsDir() string { return filepath.Join(s.dir, "factors") }
func (s *Store) settingsPath() string {
	return filepath.Join(s.dir, "settings.json")
}

func (s *Store) keyPath(alias string) string {
	return filepath.Join(s.keysDir(), alias+".pem")
}

func (s *Store) factorPath(sid string) string {
	sum := sha256.Sum256([]byte(sid))
	return filepath.Join(s.factorsDir(), hex.EncodeToString(sum[:])+".json")
}

// NewKey generates a P-256 key under a fresh random alias and stores it.
func (s *Store) NewKey() (alias string, key *ecdsa.PrivateKey, err error) {
	alias, err = s.newAlias()
	if err != nil {
		return "", nil, err
	}
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", nil, fmt.Errorf("keystore: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", nil, fmt.Errorf("keystore: encode key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeAtomic(s.keyPath(alias), data); err != nil {
		return "", nil, err
	}
	return alias, key, nil
}

func (s *Store) newAlias() (string, error) {
	// Rejection sampling keeps every character equally likely.
	const limit = 256 - 256%len(aliasAlphabet)
	out := make([]byte, 0, aliasLength)
	buf := make([]byte, 32)
	for len(out) < aliasLength {
		if _, err := io.ReadFull(s.alias, buf); err != nil {
			return "", fmt.Errorf("keystore: alias randomness: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < aliasLength {
				out = append(out, aliasAlphabet[int(b)%len(aliasAlphabet)])
			}
		}
	}
	return string(out), nil
}

// ValidAlias reports whether alias has the SDK's shape: 15 characters from
// [A-Za-z0-9]. Only such aliases are turned into file names.
func ValidAlias(alias string) bool {
	if len(alias) != aliasLength {
		return false
	}
	for i := range len(alias) {
		if !strings.ContainsRune(aliasAlphabet, rune(alias[i])) {
			return false
		}
	}
	return true
}

// Key loads the private key stored under alias.
func (s *Store) Key(alias string) (*ecdsa.PrivateKey, error) {
	if !ValidAlias(alias) {
		return nil, fmt.Errorf("keystore: key alias %q: %w", alias, ErrNotFound)
	}
	path := s.keyPath(alias)
	data, err := readPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("keystore: key %s: %w", alias, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, corrupt(path, "is not a PEM file (truncated or overwritten?)", nil)
	}
	if block.Type != "PRIVATE KEY" {
		return nil, corrupt(path, fmt.Sprintf("holds a %q PEM block, want a PKCS#8 \"PRIVATE KEY\"", block.Type), nil)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, corrupt(path, "has data after the key", nil)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, corrupt(path, "is not a valid PKCS#8 private key", err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, corrupt(path, fmt.Sprintf("holds a %T, want an ECDSA P-256 key", parsed), nil)
	}
	return key, nil
}

// DeleteKey removes the key stored under alias. A missing key is not an error.
func (s *Store) DeleteKey(alias string) error {
	if !ValidAlias(alias) {
		return nil
	}
	return removeFile(s.keyPath(alias))
}

type factorFile struct {
	Version int `json:"version"`
	Factor
}

// SaveFactor writes (or replaces) the local record of f.
func (s *Store) SaveFactor(f Factor) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveFactorLocked(f)
}

// UpdateFactor applies change to the stored record of the factor sid and
// writes it back, under the store's lock so that a concurrent delete cannot
// be undone by the write. The SID and key alias cannot be changed.
func (s *Store) UpdateFactor(sid string, change func(*Factor)) (Factor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.Factor(sid)
	if err != nil {
		return Factor{}, err
	}
	alias := f.KeyAlias
	change(&f)
	f.Sid, f.KeyAlias = sid, alias
	return f, s.saveFactorLocked(f)
}

func (s *Store) saveFactorLocked(f Factor) error {
	if err := checkFactor(f); err != nil {
		return fmt.Errorf("keystore: refusing to save factor: %w", err)
	}
	data, err := json.MarshalIndent(factorFile{Version: formatVersion, Factor: f}, "", "  ")
	if err != nil {
		return fmt.Errorf("keystore: encode factor %s: %w", f.Sid, err)
	}
	return writeAtomic(s.factorPath(f.Sid), append(data, '\n'))
}

func checkFactor(f Factor) error {
	switch {
	case f.Sid == "":
		return errors.New("no sid")
	case f.AccountSid == "":
		return errors.New("no account sid")
	case f.ServiceSid == "":
		return errors.New("no service sid")
	case f.Identity == "":
		return errors.New("no identity")
	case f.CredentialSid == "":
		return errors.New("no credential sid")
	case !ValidAlias(f.KeyAlias):
		return fmt.Errorf("key alias %q is not 15 characters of [A-Za-z0-9]", f.KeyAlias)
	}
	return nil
}

// Factor loads the local record of the factor with the given SID.
func (s *Store) Factor(sid string) (Factor, error) {
	path := s.factorPath(sid)
	f, err := s.readFactor(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Factor{}, fmt.Errorf("keystore: factor %s: %w", sid, ErrNotFound)
	}
	if err != nil {
		return Factor{}, err
	}
	if f.Sid != sid {
		return Factor{}, corrupt(path, fmt.Sprintf("holds factor %q where %q belongs", f.Sid, sid), nil)
	}
	return f, nil
}

// Factors returns every local factor, newest first (as the sample app lists
// them), ties broken by SID so the order is stable.
func (s *Store) Factors() ([]Factor, error) {
	dir, err := openDir(s.factorsDir(), "cannot list factors")
	if err != nil {
		return nil, err
	}
	entries, err := dir.ReadDir(-1)
	dir.Close()
	if err != nil {
		return nil, ioError(s.factorsDir(), "cannot list factors", err)
	}
	// In name order, so that of several bad records the same one is
	// always the one reported.
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	var out []Factor
	for _, e := range entries {
		if !isFactorFileName(e.Name()) {
			continue // temp files of interrupted writes, editor backups
		}
		path := filepath.Join(s.factorsDir(), e.Name())
		f, err := s.readFactor(path)
		if err != nil {
			return nil, err
		}
		if path != s.factorPath(f.Sid) {
			return nil, corrupt(path, fmt.Sprintf("holds factor %q, whose record belongs in another file", f.Sid), nil)
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Factor) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Sid, b.Sid)
	})
	return out, nil
}

func isFactorFileName(name string) bool {
	hexPart, ok := strings.CutSuffix(name, ".json")
	if !ok || len(hexPart) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

func (s *Store) readFactor(path string) (Factor, error) {
	data, err := readPrivate(path)
	if err != nil {
		return Factor{}, err
	}
	var ff factorFile
	if err := decodeStrict(data, &ff); err != nil {
		return Factor{}, corrupt(path, "is not a valid factor record (truncated or overwritten?)", err)
	}
	if ff.Version != formatVersion {
		return Factor{}, corrupt(path, fmt.Sprintf("is not a pushsim factor record (format version %d, want %d)", ff.Version, formatVersion), nil)
	}
	if err := checkFactor(ff.Factor); err != nil {
		return Factor{}, corrupt(path, "is an incomplete factor record", err)
	}
	return ff.Factor, nil
}

// DeleteFactor removes the local record of a factor and then its key, the
// order the SDK uses. A factor that is already gone is not an error.
func (s *Store) DeleteFactor(sid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.Factor(sid)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := removeFile(s.factorPath(sid)); err != nil {
		return err
	}
	return s.DeleteKey(f.KeyAlias)
}

// Clear deletes every factor record and every key: the SDK's
// clearLocalStorage. Settings survive, as the SDK's time correction does.
// It returns the factors it removed.
func (s *Store) Clear() ([]Factor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The listing only tells the caller what went; a corrupt record must not
	// stop the wipe, since wiping is how the user recovers from it.
	factors, listErr := s.Factors()
	for _, d := range []string{s.factorsDir(), s.keysDir()} {
		if err := os.RemoveAll(d); err != nil {
			return nil, ioError(d, "cannot remove", err)
		}
		if err := ensureDir(d); err != nil {
			return nil, err
		}
	}
	if err := syncDir(s.dir); err != nil {
		return nil, err
	}
	if listErr != nil {
		return nil, nil
	}
	return factors, nil
}

type settingsFile struct {
	Version int `json:"version"`
	Settings
}

// Settings returns the stored settings; a fresh home has zero settings.
func (s *Store) Settings() (Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readSettings()
}

func (s *Store) readSettings() (Settings, error) {
	path := s.settingsPath()
	data, err := readPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	var sf settingsFile
	if err := decodeStrict(data, &sf); err != nil {
		return Settings{}, corrupt(path, "is not a valid settings file (truncated or overwritten?)", err)
	}
	if sf.Version != formatVersion {
		return Settings{}, corrupt(path, fmt.Sprintf("is not a pushsim settings file (format version %d, want %d)", sf.Version, formatVersion), nil)
	}
	return sf.Settings, nil
}

// UpdateSettings applies change to the stored settings and writes them back
// atomically.
func (s *Store) UpdateSettings(change func(*Settings)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.readSettings()
	if err != nil {
		return err
	}
	change(&st)
	data, err := json.MarshalIndent(settingsFile{Version: formatVersion, Settings: st}, "", "  ")
	if err != nil {
		return fmt.Errorf("keystore: encode settings: %w", err)
	}
	return writeAtomic(s.settingsPath(), append(data, '\n'))
}

// TimeCorrection returns the stored server-minus-device clock difference in
// seconds.
func (s *Store) TimeCorrection() (int64, error) {
	st, err := s.Settings()
	return st.TimeCorrection, err
}

// SetTimeCorrection stores the server-minus-device clock difference.
func (s *Store) SetTimeCorrection(seconds int64) error {
	return s.UpdateSettings(func(st *Settings) { st.TimeCorrection = seconds })
}

// SetClockOffset stores a new clock offset and, when it differs from the
// stored one, clears the time correction learned under the old offset, in
// one write. It reports whether the correction was cleared.
func (s *Store) SetClockOffset(offset time.Duration) (cleared bool, err error) {
	err = s.UpdateSettings(func(st *Settings) {
		if st.ClockOffset != offset {
			st.ClockOffset, st.TimeCorrection = offset, 0
			cleared = true
		}
	})
	return cleared, err
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func corrupt(path, detail string, err error) error {
	return &FileError{Path: path, Problem: ProblemCorrupt, Detail: detail, Err: err}
}

func ioError(path, detail string, err error) error {
	return &FileError{Path: path, Problem: ProblemIO, Detail: detail, Err: err}
}

// ensureDir creates dir with mode 0700, or checks that an existing one is a
// directory of the current user's that no other user can enter.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ioError(dir, "cannot create directory", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return ioError(dir, "cannot inspect directory", err)
	}
	if !info.IsDir() {
		return &FileError{Path: dir, Problem: ProblemPermissions, Detail: "is not a directory"}
	}
	if err := checkOwner(dir, info, "chown -R it to yourself, or give the phone another home"); err != nil {
		return err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return &FileError{Path: dir, Problem: ProblemPermissions,
			Detail: fmt.Sprintf("has mode %04o; other users can reach the keys (chmod 700 it)", perm)}
	}
	return nil
}

// checkOwner refuses what another user owns: its owner can read the keys
// through it or replace what the phone trusts, whatever its mode says.
func checkOwner(path string, info fs.FileInfo, fix string) error {
	owner, known := fileOwner(info)
	if !known {
		return nil
	}
	if me := currentUID(); owner != me {
		return &FileError{Path: path, Problem: ProblemPermissions,
			Detail: fmt.Sprintf("is owned by user %d, not by you (user %d): its owner could read or replace the phone's keys (%s)", owner, me, fix)}
	}
	return nil
}

// checkPrivateFile refuses anything but a regular file of the current
// user's that only they can access.
func checkPrivateFile(path string, info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return &FileError{Path: path, Problem: ProblemPermissions,
			Detail: fmt.Sprintf("is %s, not a regular file; the keystore never writes one (remove it)", fileKind(info.Mode()))}
	}
	if err := checkOwner(path, info, "chown it to yourself, or remove it"); err != nil {
		return err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return &FileError{Path: path, Problem: ProblemPermissions,
			Detail: fmt.Sprintf("has mode %04o; it must be readable by its owner only (chmod 600 it)", perm)}
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	default:
		return "a special file"
	}
}

// readPrivate reads a regular file that only its owner, the current user,
// can access. A missing file yields an error wrapping fs.ErrNotExist.
func readPrivate(path string) ([]byte, error) {
	// Looked at before opening, since opening a device can do things of
	// its own; and again once open, as the path may be swapped between.
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, ioError(path, "cannot inspect", err)
	}
	if err := checkPrivateFile(path, info); err != nil {
		return nil, err
	}
	f, err := openWithoutWaiting(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, ioError(path, "cannot open", err)
	}
	defer f.Close()
	info, err = f.Stat()
	if err != nil {
		return nil, ioError(path, "cannot inspect", err)
	}
	if err := checkPrivateFile(path, info); err != nil {
		return nil, err
	}
	if info.Size() > maxFileSize {
		return nil, corrupt(path, fmt.Sprintf("is %d bytes, far larger than anything the keystore writes", info.Size()), nil)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, ioError(path, "cannot read", err)
	}
	return data, nil
}

// openDir opens a directory of the store without waiting on whatever may
// have replaced it; failing tells what it was opened for.
func openDir(dir, purpose string) (*os.File, error) {
	d, err := openWithoutWaiting(dir)
	if err != nil {
		return nil, ioError(dir, purpose, err)
	}
	info, err := d.Stat()
	if err != nil {
		d.Close()
		return nil, ioError(dir, purpose, err)
	}
	if !info.IsDir() {
		d.Close()
		return nil, &FileError{Path: dir, Problem: ProblemPermissions,
			Detail: fmt.Sprintf("is %s, not a directory (remove it)", fileKind(info.Mode()))}
	}
	return d, nil
}

// writeAtomic replaces path with data so that a crash leaves either the old
// file or the new one: temp file in the same directory, fsync, rename, then
// fsync the directory so the rename itself is durable.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return ioError(dir, "cannot create temporary file", err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return ioError(tmpName, "cannot set mode 0600", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return ioError(tmpName, "cannot write", err)
	}
	if err := tmp.Sync(); err != nil {
		return ioError(tmpName, "cannot sync", err)
	}
	if err := tmp.Close(); err != nil {
		return ioError(tmpName, "cannot close", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return ioError(path, "cannot replace", err)
	}
	ok = true
	return syncDir(dir)
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ioError(path, "cannot remove", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := openDir(dir, "cannot open directory to sync it")
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return ioError(dir, "cannot sync directory", err)
	}
	return nil
}
