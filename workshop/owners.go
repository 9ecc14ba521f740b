package workshop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// ownerFile, inside a name's directory, records which SSH key owns the
// name. Deleting the directory gives the name back.
const ownerFile = "owner.json"

// owner is what ownerFile holds.
type owner struct {
	Name string `json:"name"`
	// Key is the owner's public key in authorized_keys form.
	Key string `json:"key"`
	// Fingerprint is there for people reading the file.
	Fingerprint string `json:"fingerprint"`
}

// claim binds name to key, unless another key already holds it, and
// returns the name's directory. refusal is the line the attendee reads
// when the name is someone else's.
func (s *Server) claim(name string, key ssh.PublicKey) (dir, refusal string, err error) {
	s.claims.Lock()
	defer s.claims.Unlock()
	dir = filepath.Join(s.cfg.PhonesDir, dirName(name))
	path := filepath.Join(dir, ownerFile)
	current, err := readOwner(path)
	if errors.Is(err, fs.ErrNotExist) {
		current, err = writeOwner(dir, owner{
			Name: name, Key: strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key))), Fingerprint: gossh.FingerprintSHA256(key),
		})
	}
	if err != nil {
		return "", "", err
	}
	if current.Name != name {
		// Two names whose hashes share 48 bits: refuse rather than share.
		return "", fmt.Sprintf("pushsim: the name %q is too like one already taken here. Choose another.", name), nil
	}
	ownerKey, _, _, _, err := gossh.ParseAuthorizedKey([]byte(current.Key))
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	if !ssh.KeysEqual(ownerKey, key) {
		return "", fmt.Sprintf("pushsim: the name %q belongs to another SSH key, the first one that used it; yours is %s. Connect with that key, or choose another name.",
			name, gossh.FingerprintSHA256(key)), nil
	}
	return dir, "", nil
}

func readOwner(path string) (owner, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return owner{}, err
	}
	var o owner
	if err := json.Unmarshal(data, &o); err != nil {
		return owner{}, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

// writeOwner writes the owner file whole or not at all: a crash leaves
// either no owner, so the name is still free, or the complete record.
// Linking refuses to replace a file that is already there.
func writeOwner(dir string, o owner) (owner, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return owner{}, err
	}
	data, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return owner{}, err
	}
	tmp, err := os.CreateTemp(dir, ".owner-*")
	if err != nil {
		return owner{}, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return owner{}, err
	}
	path := filepath.Join(dir, ownerFile)
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readOwner(path)
	} else if err != nil {
		return owner{}, err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return o, nil
}
