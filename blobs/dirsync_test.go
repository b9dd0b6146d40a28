package blobs_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rempart/rempart/blobs"
)

// TestPutSyncsOnlyNewDirectories: a Put makes its object's name durable by
// syncing the directory holding it, and the parents of the directories it
// created; a later Put into the same directory syncs that directory alone
// (BCK-3).
func TestPutSyncsOnlyNewDirectories(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blobs.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	root := blobs.Dir(s)
	synced := blobs.RecordDirSyncs(t)
	put := func(key string) {
		t.Helper()
		if _, err := s.Put(ctx, key, strings.NewReader("sealed")); err != nil {
			t.Fatal(err)
		}
	}
	put("attachments/ten_a/obj_1")
	want := []string{filepath.Join(root, "attachments/ten_a"), filepath.Join(root, "attachments"), root}
	if !slices.Equal(*synced, want) {
		t.Fatalf("first Put synced %v, want %v", *synced, want)
	}
	*synced = nil
	put("attachments/ten_a/obj_2")
	if want := []string{filepath.Join(root, "attachments/ten_a")}; !slices.Equal(*synced, want) {
		t.Fatalf("second Put in the same directory synced %v, want %v", *synced, want)
	}
	*synced = nil
	put("attachments/ten_b/obj_1")
	if want := []string{filepath.Join(root, "attachments/ten_b"), filepath.Join(root, "attachments")}; !slices.Equal(*synced, want) {
		t.Fatalf("Put in a new directory synced %v, want %v", *synced, want)
	}
	*synced = nil
	put("top")
	if want := []string{root}; !slices.Equal(*synced, want) {
		t.Fatalf("Put at the top synced %v, want %v", *synced, want)
	}
}
