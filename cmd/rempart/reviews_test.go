package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/jobs"
)

// TestQuarterlyReviewIsAScheduledJob: serve schedules the quarterly access
// review as a job, whose run opens the current quarter's staff campaign
// once (IAM-9), and the overdue reminders as another.
func TestQuarterlyReviewIsAScheduledJob(t *testing.T) {
	m, _ := startMain(t, filepath.Join(t.TempDir(), "data"), "--backup-schedule", "off", "--restore-test-schedule", "off")
	ctx := context.Background()
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	now := time.Now().UTC()
	quarter := fmt.Sprintf("%d-Q%d", now.Year(), (int(now.Month())-1)/3+1)
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := m.Jobs.List(ctx, admin, jobs.Query{Kind: jobReviewQuarterly})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Jobs) == 1 && list.Jobs[0].Status == "done" && strings.HasPrefix(list.Jobs[0].UniqueKey, jobReviewQuarterly+":") {
			break
		}
		if len(list.Jobs) > 1 || time.Now().After(deadline) {
			t.Fatalf("quarterly review jobs: got %+v, want the day's one, done", list.Jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cs, err := m.Reviews.Campaigns(ctx, admin, "")
	if err != nil || len(cs) != 1 || cs[0].Period != quarter || cs[0].CreatedBy != "system:reviews" {
		t.Fatalf("staff campaigns: got %+v, %v; want the quarter's", cs, err)
	}
	if n, err := m.Reviews.Quarterly(ctx); err != nil || n != 0 {
		t.Fatalf("a second run in the quarter opened %d, %v", n, err)
	}
	if list, err := m.Jobs.List(ctx, admin, jobs.Query{Kind: jobReviewRemind}); err != nil || len(list.Jobs) != 1 {
		t.Fatalf("reminder jobs: got %+v, %v; want the day's one", list, err)
	}
}
