// Package localdir delivers credentials through the local file system, for
// jit run by hand or in CI: Keys reads each requester's SSH public keys from
// DIR/LOGIN.pub, and Credentials writes each grant's encrypted credentials to
// DIR/<grant id>.age. The App uses GitHub instead (the users' keys, a
// comment on the pull request).
package localdir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jitops/jit/controller/provision"
)

// Keys is a provision.KeySource reading DIR/LOGIN.pub (authorized_keys
// format). A login without a file has no keys.
type Keys string

var loginPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

func (d Keys) AuthorizedKeys(_ context.Context, login string) ([]string, error) {
	if !loginPattern.MatchString(login) {
		return nil, fmt.Errorf("%q is not a GitHub login", login)
	}
	b, err := os.ReadFile(filepath.Join(string(d), login+".pub"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			keys = append(keys, l)
		}
	}
	return keys, nil
}

// Credentials is a provision.CredentialSink writing DIR/<grant id>.age
// (the id's directories as subdirectories, mode 0700; files mode 0600), so
// two grant ids never share a file. Each file appears whole or not at all:
// it is written to a temporary file, synced and renamed into place.
type Credentials string

// File names the file holding grant id's credentials in dir.
func File(dir, id string) string {
	return filepath.Join(dir, filepath.FromSlash(id)+".age")
}

func (d Credentials) Deliver(_ context.Context, id string, ciphertext []byte) error {
	target := File(string(d), id)
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return fmt.Errorf("writing credentials to %s: %w", d, err)
	}
	f, err := os.CreateTemp(filepath.Dir(target), ".tmp-*.age")
	if err != nil {
		return err
	}
	_, err = f.Write(ciphertext)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), target)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing credentials to %s: %w", d, err)
	}
	return nil
}

var (
	_ provision.KeySource      = Keys("")
	_ provision.CredentialSink = Credentials("")
)
