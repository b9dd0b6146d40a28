package blobs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rempart/rempart/blobs"
)

func TestOpenRefuses(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		location string
		want     string // in the error
	}{
		{"", "empty location"},
		{"https://bucket.example.net/x", "unsupported scheme"},
		{"gs://bucket", "unsupported scheme"},
		{"file://relative/dir", "file:///absolute/path"},
		{"file:///abs?x=1", "file:///absolute/path"},
		{"file://host/abs", "file:///absolute/path"},
		{file, "not a directory"},
		{"s3://", "s3://BUCKET"},
		{"s3://bucket/path", "s3://BUCKET"},
		{"s3://bucket:9000", "s3://BUCKET"},
		{"s3://AKIAEXAMPLE:s3cr3t@bucket", "must not hold credentials"},
		{"s3://bucket?aws_secret_access_key=s3cr3t", `unknown parameter "aws_secret_access_key"`},
		{"s3://bucket?region=a&region=b", "more than once"},
		{"s3://bucket?use_path_style=maybe", "use_path_style must be true or false"},
		{"s3://bucket?endpoint=http://s3.example.net", "must use https"},
		{"s3://bucket?endpoint=http://10.0.0.1:9000", "must use https"},
		{"s3://bucket?endpoint=ftp://s3.example.net", "https URL"},
		{"s3://bucket?endpoint=https://AKIAEXAMPLE:s3cr3t@s3.example.net", "no credentials"},
	} {
		s, err := blobs.Open(context.Background(), tc.location)
		if err == nil {
			s.Close()
			t.Errorf("open %q: got a store, want an error containing %q", tc.location, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("open %q: got %q, want it to contain %q", tc.location, err, tc.want)
		}
		if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "AKIAEXAMPLE") {
			t.Errorf("open %q: the error %q repeats credentials", tc.location, err)
		}
	}
}

func TestOpenLocal(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	for _, location := range []string{
		filepath.Join(parent, "a", "b"),
		"file://" + filepath.Join(parent, "c"),
	} {
		s := open(t, location)
		dir := blobs.Dir(s)
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("open %s: got directory mode %o, want 700", location, perm)
		}
		if want := "file://" + dir; s.String() != want {
			t.Errorf("open %s: got name %s, want %s", location, s, want)
		}
		put(t, s, "t1/att/x", []byte("secret ciphertext"))
		for _, p := range []string{"t1", "t1/att"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("directory %s: got %v, %v; want mode 700", p, fi.Mode(), err)
			}
		}
		fi, err = os.Stat(filepath.Join(dir, "t1", "att", "x"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("object file: got %v, %v; want mode 600", fi.Mode(), err)
		}
		if files := filesIn(t, dir); len(files) != 1 {
			t.Errorf("files after put: got %v, want only the object", files)
		}
		// Reopening finds the object.
		s.Close()
		s = open(t, location)
		if info, err := s.Stat(ctx, "t1/att/x"); err != nil || info.Size != 17 {
			t.Errorf("stat after reopen: got %v, %v; want 17 bytes", info, err)
		}
	}
	// A relative path is taken from the working directory.
	t.Chdir(parent)
	if s := open(t, "rel"); blobs.Dir(s) != filepath.Join(parent, "rel") {
		t.Errorf("open rel: got %s, want %s", blobs.Dir(s), filepath.Join(parent, "rel"))
	}
}
