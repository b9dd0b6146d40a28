package blobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gocloud.dev/blob/fileblob"
)

// openLocal opens the directory dir as a store, creating it (0700) if needed.
//
// Objects are files named by their keys under dir, subdirectories 0700 and
// files 0600. fileblob writes each object to a temporary file beside its final
// name ("KEY.<hex>.tmp", a name no key can have) and renames it into place
// once complete; Put syncs the file before the rename and the directories
// after it, so an acknowledged object survives a crash.
func openLocal(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open blob store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open blob store: %s is not a directory", abs)
	}
	b, err := fileblob.OpenBucket(abs, &fileblob.Options{
		DirFileMode: 0o700,
		NoTempDir:   true, // rename within the directory: atomic, same filesystem
		Metadata:    fileblob.MetadataDontWrite,
	})
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", abs, err)
	}
	return &Store{bucket: b, name: "file://" + filepath.ToSlash(abs), dir: abs}, nil
}

// syncDirs makes the name of the object at key durable (BCK-3): it syncs
// the directory holding it and, going up, the parent of each directory not
// yet known to be durable — those this Put (or a concurrent one) created.
// A directory is known durable once its parent was synced after it existed;
// rempart never removes directories of a store, so that stays true.
func (s *Store) syncDirs(key string) error {
	rel := key
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		rel = rel[:i]
	} else {
		rel = ""
	}
	if err := syncDir(filepath.Join(s.dir, filepath.FromSlash(rel))); err != nil {
		return err
	}
	for rel != "" {
		if _, ok := s.durableDirs.Load(rel); ok {
			return nil
		}
		parent := ""
		if i := strings.LastIndexByte(rel, '/'); i >= 0 {
			parent = rel[:i]
		}
		if err := syncDir(filepath.Join(s.dir, filepath.FromSlash(parent))); err != nil {
			return err
		}
		s.durableDirs.Store(rel, true)
		rel = parent
	}
	return nil
}

// syncDir fsyncs a directory (a variable, so that tests can count).
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// listLocal yields the objects under the local root whose keys start with
// prefix, in lexical key order, and reports whether to go on.
//
// It walks the directories itself rather than through fileblob, whose paging
// skips objects when keys holding "-" or "." sort before keys holding "/"
// ("d-1" < "d/1"): within each directory, entries are visited in the order of
// their names with "/" appended to directories, which is the order of the
// keys beneath them. Memory grows with the largest directory, not with the
// number of objects.
func (s *Store) listLocal(ctx context.Context, prefix string, yield func(Info, error) bool) bool {
	// Start from the deepest directory that the prefix names in full.
	start := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i+1]
	}
	return s.walkLocal(ctx, start, prefix, yield)
}

// walkLocal visits the directory of keys starting with dirKey ("" or ending
// in "/").
func (s *Store) walkLocal(ctx context.Context, dirKey, prefix string, yield func(Info, error) bool) bool {
	entries, err := os.ReadDir(filepath.Join(s.dir, filepath.FromSlash(dirKey)))
	if errors.Is(err, fs.ErrNotExist) && dirKey != "" {
		return true
	}
	if err != nil {
		yield(Info{}, err)
		return false
	}
	names := make([]string, 0, len(entries))
	dirs := make(map[string]bool)
	for _, e := range entries {
		switch {
		case e.IsDir():
			names = append(names, e.Name()+"/")
			dirs[e.Name()+"/"] = true
		case e.Type().IsRegular():
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			yield(Info{}, err)
			return false
		}
		key := dirKey + name
		if dirs[name] {
			if strings.HasPrefix(key, prefix) || strings.HasPrefix(prefix, key) {
				if !s.walkLocal(ctx, key, prefix, yield) {
					return false
				}
			}
			continue
		}
		if !strings.HasPrefix(key, prefix) || ValidateKey(key) != nil {
			continue
		}
		fi, err := os.Stat(filepath.Join(s.dir, filepath.FromSlash(key)))
		if errors.Is(err, fs.ErrNotExist) { // deleted since ReadDir
			continue
		}
		if err != nil {
			yield(Info{}, err)
			return false
		}
		if !yield(Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime().UTC()}, nil) {
			return false
		}
	}
	return true
}
