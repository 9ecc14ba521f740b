package keystore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleFactor(sid, alias string, created time.Time) Factor {
	return Factor{
		Sid:                  sid,
		FriendlyName:         "alice's factor",
		AccountSid:           "AC11111111111111111111111111111111",
		ServiceSid:           "VA22222222222222222222222222222222",
		Identity:             "alice",
		Status:               "verified",
		CredentialSid:        "CR33333333333333333333333333333333",
		NotificationPlatform: "none",
		CreatedAt:            created,
		Metadata:             map[string]string{"os": "Android"},
		KeyAlias:             alias,
	}
}

// enroll stores a key and a factor record pointing at it.
func enroll(t *testing.T, s *Store, sid string, created time.Time) (Factor, *ecdsa.PrivateKey) {
	t.Helper()
	alias, key, err := s.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	f := sampleFactor(sid, alias, created)
	if err := s.SaveFactor(f); err != nil {
		t.Fatal(err)
	}
	return f, key
}

func TestRestartKeepsFactorsKeysAndSettings(t *testing.T) {
	home := filepath.Join(t.TempDir(), "phone")
	s := openStore(t, home)
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	older, olderKey := enroll(t, s, "YF01", t0)
	newer, _ := enroll(t, s, "YF02", t0.Add(time.Hour))
	if err := s.SetTimeCorrection(-900); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateSettings(func(st *Settings) { st.PushToken = "tok" }); err != nil {
		t.Fatal(err)
	}

	again := openStore(t, home)
	got, err := again.Factors()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Sid != newer.Sid || got[1].Sid != older.Sid {
		t.Fatalf("factors after restart = %+v, want newest first", got)
	}
	if got[1].Metadata["os"] != "Android" || !got[1].CreatedAt.Equal(t0) || got[1].KeyAlias != older.KeyAlias {
		t.Errorf("record changed across restart: %+v", got[1])
	}
	key, err := again.Key(older.KeyAlias)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Equal(olderKey) {
		t.Error("reloaded key differs from the generated one")
	}
	st, err := again.Settings()
	if err != nil {
		t.Fatal(err)
	}
	if st.TimeCorrection != -900 || st.PushToken != "tok" {
		t.Errorf("settings after restart = %+v", st)
	}
}

func TestWipingHomeIsUninstall(t *testing.T) {
	home := filepath.Join(t.TempDir(), "phone")
	s := openStore(t, home)
	enroll(t, s, "YF01", time.Now())
	if err := os.RemoveAll(home); err != nil {
		t.Fatal(err)
	}
	got, err := openStore(t, home).Factors()
	if err != nil || len(got) != 0 {
		t.Fatalf("after wipe: factors=%v err=%v, want none", got, err)
	}
}

func TestPermissions(t *testing.T) {
	home := filepath.Join(t.TempDir(), "phone")
	s := openStore(t, home)
	f, _ := enroll(t, s, "YF01", time.Now())
	if err := s.SetTimeCorrection(1); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{home, filepath.Join(home, "keys"), filepath.Join(home, "factors")} {
		if mode := stat(t, dir).Mode().Perm(); mode != 0o700 {
			t.Errorf("%s has mode %04o, want 0700", dir, mode)
		}
	}
	for _, file := range []string{s.keyPath(f.KeyAlias), s.factorPath(f.Sid), s.settingsPath()} {
		if mode := stat(t, file).Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", file, mode)
		}
	}
	// Every write went through a rename; no temporary file may be left.
	for _, dir := range []string{home, filepath.Join(home, "keys"), filepath.Join(home, "factors")} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				t.Errorf("leftover temporary file %s", filepath.Join(dir, e.Name()))
			}
		}
	}
}

func stat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestRefusesFilesOthersCanRead(t *testing.T) {
	home := filepath.Join(t.TempDir(), "phone")
	s := openStore(t, home)
	f, _ := enroll(t, s, "YF01", time.Now())
	keyPath := s.keyPath(f.KeyAlias)
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.Key(f.KeyAlias)
	assertFileError(t, err, keyPath, ProblemPermissions,
		"keystore: "+keyPath+": has mode 0644; it must be readable by its owner only (chmod 600 it)")

	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Open(home, nil)
	assertFileError(t, err, home, ProblemPermissions,
		"keystore: "+home+": has mode 0755; other users can reach the keys (chmod 700 it)")
}

func TestCorruptFiles(t *testing.T) {
	home := filepath.Join(t.TempDir(), "phone")
	s := openStore(t, home)
	f, _ := enroll(t, s, "YF01", time.Now())
	keyPath, factorPath := s.keyPath(f.KeyAlias), s.factorPath(f.Sid)
	goodKey, _ := os.ReadFile(keyPath)
	goodFactor, _ := os.ReadFile(factorPath)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)

	keyCases := []struct {
		name, content, want string
	}{
		{"truncated key", string(goodKey[:len(goodKey)/2]), "is not a PEM file (truncated or overwritten?)"},
		{"empty key", "", "is not a PEM file (truncated or overwritten?)"},
		{"certificate", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})),
			`holds a "CERTIFICATE" PEM block, want a PKCS#8 "PRIVATE KEY"`},
		{"garbled DER", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")})),
			"is not a valid PKCS#8 private key"},
		{"rsa key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER})),
			"holds a *rsa.PrivateKey, want an ECDSA P-256 key"},
		{"p384 key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER})),
			"holds a *ecdsa.PrivateKey, want an ECDSA P-256 key"},
	}
	for _, tc := range keyCases {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, keyPath, tc.content)
			_, err := s.Key(f.KeyAlias)
			assertFileError(t, err, keyPath, ProblemCorrupt, "")
			if !strings.HasPrefix(err.Error(), "keystore: "+keyPath+": "+tc.want) {
				t.Errorf("message = %q\nwant prefix %q", err, "keystore: "+keyPath+": "+tc.want)
			}
		})
	}
	writeFile(t, keyPath, string(goodKey))

	factorCases := []struct {
		name, content, want string
	}{
		{"truncated record", string(goodFactor[:len(goodFactor)-10]),
			"is not a valid factor record (truncated or overwritten?): unexpected EOF"},
		{"foreign json", `{"sid":"YF01"}`, "is not a pushsim factor record (format version 0, want 1)"},
		{"incomplete record", `{"version":1,"sid":"YF01"}`, "is an incomplete factor record: no account sid"},
		{"path in alias", strings.Replace(string(goodFactor), f.KeyAlias, "../../etc/passwd", 1),
			`is an incomplete factor record: key alias "../../etc/passwd" is not 15 characters of [A-Za-z0-9]`},
	}
	for _, tc := range factorCases {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, factorPath, tc.content)
			_, err := s.Factors()
			assertFileError(t, err, factorPath, ProblemCorrupt, "keystore: "+factorPath+": "+tc.want)
			_, err = s.Factor("YF01")
			assertFileError(t, err, factorPath, ProblemCorrupt, "keystore: "+factorPath+": "+tc.want)
		})
	}

	t.Run("record moved to another factor's file", func(t *testing.T) {
		writeFile(t, factorPath, string(goodFactor))
		other := s.factorPath("YF99")
		writeFile(t, other, string(goodFactor))
		_, err := s.Factor("YF99")
		assertFileError(t, err, other, ProblemCorrupt, "keystore: "+other+`: holds factor "YF01" where "YF99" belongs`)
		os.Remove(other)
	})

	t.Run("settings", func(t *testing.T) {
		writeFile(t, s.settingsPath(), `{"version":1,"time_correction":`)
		_, err := s.Settings()
		assertFileError(t, err, s.settingsPath(), ProblemCorrupt, "")
		if err := s.SetTimeCorrection(5); err == nil {
			t.Error("SetTimeCorrection overwrote a corrupt settings file instead of reporting it")
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func assertFileError(t *testing.T, err error, path string, problem Problem, message string) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want *FileError", err, err)
	}
	if fe.Path != path || fe.Problem != problem {
		t.Errorf("FileError{Path:%q Problem:%q}, want {%q %q}", fe.Path, fe.Problem, path, problem)
	}
	if message != "" && err.Error() != message {
		t.Errorf("message\n got %q\nwant %q", err.Error(), message)
	}
}

func TestDeleteAndClear(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "phone"))
	a, _ := enroll(t, s, "YF01", time.Now())
	b, _ := enroll(t, s, "YF02", time.Now())

	if err := s.DeleteFactor(a.Sid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Factor(a.Sid); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted factor lookup err = %v, want ErrNotFound", err)
	}
	if _, err := s.Key(a.KeyAlias); !errors.Is(err, ErrNotFound) {
		t.Errorf("key of deleted factor: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteFactor(a.Sid); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if _, err := s.UpdateFactor(a.Sid, func(f *Factor) { f.Status = "verified" }); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateFactor on a deleted factor err = %v; it must not resurrect it", err)
	}

	if err := s.SetTimeCorrection(42); err != nil {
		t.Fatal(err)
	}
	removed, err := s.Clear()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Sid != b.Sid {
		t.Errorf("Clear removed %+v, want only %s", removed, b.Sid)
	}
	if got, _ := s.Factors(); len(got) != 0 {
		t.Errorf("factors after Clear: %+v", got)
	}
	if _, err := s.Key(b.KeyAlias); err == nil {
		t.Error("key survived Clear")
	}
	if tc, _ := s.TimeCorrection(); tc != 42 {
		t.Errorf("time correction after Clear = %d, want it kept", tc)
	}
}

func TestClearRecoversFromCorruption(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "phone"))
	f, _ := enroll(t, s, "YF01", time.Now())
	writeFile(t, s.factorPath(f.Sid), "garbage")
	if _, err := s.Clear(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Factors(); err != nil || len(got) != 0 {
		t.Errorf("after Clear: %v %v", got, err)
	}
}

func TestAliases(t *testing.T) {
	// A reader of constant bytes makes the alias predictable: byte 0x05 maps
	// to the sixth letter of the alphabet.
	s, err := Open(filepath.Join(t.TempDir(), "phone"), bytes.NewReader(bytes.Repeat([]byte{5}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	alias, _, err := s.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if alias != "FFFFFFFFFFFFFFF" {
		t.Errorf("alias = %q", alias)
	}
	random := openStore(t, filepath.Join(t.TempDir(), "other"))
	a1, _, _ := random.NewKey()
	a2, _, _ := random.NewKey()
	if !ValidAlias(a1) || !ValidAlias(a2) || a1 == a2 {
		t.Errorf("aliases %q %q: want two distinct 15-char [A-Za-z0-9] strings", a1, a2)
	}
	for _, bad := range []string{"", "short", "FFFFFFFFFFFFFF/", "FFFFFFFFFFFFFFFF"} {
		if ValidAlias(bad) {
			t.Errorf("ValidAlias(%q) = true", bad)
		}
	}
	if _, err := s.Key("../settings.js"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Key with a path-like alias: %v", err)
	}
}

func TestSaveRejectsIncompleteRecords(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "phone"))
	f := sampleFactor("YF01", "AAAAAAAAAAAAAAA", time.Now())
	f.CredentialSid = ""
	if err := s.SaveFactor(f); err == nil || !strings.Contains(err.Error(), "no credential sid") {
		t.Errorf("err = %v", err)
	}
}
