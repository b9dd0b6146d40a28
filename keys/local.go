package keys

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// LocalKeys is the root key source of the embedded deployment: the key file
// at path is version 1 and its successors are path.2, path.3, … (ENC-3).
// Each is 32 random bytes, hex encoded, readable by its owner only.
type LocalKeys struct{ path string }

// NewLocalKeys returns the source whose first version is the file at path.
func NewLocalKeys(path string) *LocalKeys { return &LocalKeys{path: path} }

// Describe names the source.
func (l *LocalKeys) Describe() string { return "local key file " + l.path }

// versions returns the version numbers present, ascending.
func (l *LocalKeys) versions() ([]int, error) {
	var vs []int
	if _, err := os.Lstat(l.path); err == nil {
		vs = append(vs, 1)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("stat root key: %w", err)
	}
	matches, err := filepath.Glob(globEscape(l.path) + ".*")
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(m, l.path+"."))
		if err == nil && n >= 2 {
			vs = append(vs, n)
		}
	}
	sort.Ints(vs)
	return vs, nil
}

func (l *LocalKeys) file(v int) string {
	if v == 1 {
		return l.path
	}
	return l.path + "." + strconv.Itoa(v)
}

// Versions lists the IDs of the versions present, oldest first.
func (l *LocalKeys) Versions(context.Context) ([]string, error) {
	vs, err := l.versions()
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(vs))
	for _, v := range vs {
		p, err := OpenLocalFile(l.file(v))
		if err != nil {
			return nil, err
		}
		ids = append(ids, p.KeyID())
	}
	return ids, nil
}

// Latest opens the newest version.
func (l *LocalKeys) Latest(context.Context) (Provider, error) {
	vs, err := l.versions()
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoRootKey, l.path)
	}
	return OpenLocalFile(l.file(vs[len(vs)-1]))
}

// Open finds the version whose KeyID is id.
func (l *LocalKeys) Open(_ context.Context, id string) (Provider, error) {
	_, p, err := l.find(id)
	return p, err
}

func (l *LocalKeys) find(id string) (int, *LocalFile, error) {
	vs, err := l.versions()
	if err != nil {
		return 0, nil, err
	}
	for _, v := range vs {
		p, err := OpenLocalFile(l.file(v))
		if err != nil {
			return 0, nil, err // a damaged or exposed key file is an error, not "absent"
		}
		if p.KeyID() == id {
			return v, p, nil
		}
	}
	return 0, nil, fmt.Errorf("%w: no version of %s is %s", ErrNoRootKey, l.path, id)
}

// Create writes a new version after the newest.
func (l *LocalKeys) Create(context.Context) (Provider, error) {
	vs, err := l.versions()
	if err != nil {
		return nil, err
	}
	next := 1
	if len(vs) > 0 {
		next = vs[len(vs)-1] + 1
	}
	p, err := CreateLocalFile(l.file(next))
	if err != nil {
		return nil, err
	}
	return p, syncDir(filepath.Dir(l.path))
}

// Destroy overwrites the version's file, then removes it.
func (l *LocalKeys) Destroy(_ context.Context, id string) error {
	v, _, err := l.find(id)
	if err != nil {
		return err
	}
	path := l.file(v)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("destroy root key: %w", err)
	}
	_, werr := f.Write(make([]byte, 65))
	serr := f.Sync()
	f.Close()
	if err := errors.Join(werr, serr); err != nil {
		return fmt.Errorf("destroy root key: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("destroy root key: %w", err)
	}
	return syncDir(filepath.Dir(l.path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}
