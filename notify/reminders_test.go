package notify_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/internal/smtptest"
	"github.com/rempart/rempart/notify"
)

// TestReviewRemindersMailed: an overdue campaign's reminder reaches every
// reviewer through a real Postfix with the campaign's link and what is left
// to decide; one reviewer the relay refuses does not stop the others, and
// the failure is reported (IAM-9).
func TestReviewRemindersMailed(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m, err := notify.New(notify.Config{Host: srv.Host, Port: srv.Port, RootCAs: srv.RootCAs, From: "rempart <noreply@rempart.test>"})
	if err != nil {
		t.Fatal(err)
	}
	var asked string
	r := &notify.ReviewReminders{Mailer: m, ConsoleURL: "https://console.rempart.test",
		Reviewers: func(_ context.Context, tenant string) ([]string, error) {
			asked = tenant
			return []string{"tom@example.test", "nobody@example.test", "ann@example.test"}, nil
		}}
	c := rempart.Campaign{ID: "arc_1", TenantID: "ten_acme", Name: "2026-Q4 review", DueAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Accounts: 12, Decided: 5}
	err = r.RemindReviewers(context.Background(), c, 7)
	if err == nil || !strings.Contains(err.Error(), "nobody@example.test") {
		t.Fatalf("a refused reviewer: got %v, want it reported", err)
	}
	if asked != "ten_acme" {
		t.Errorf("reviewers asked for %q, want the campaign's tenant", asked)
	}
	msgs := srv.Wait(t, 2)
	got := map[string]bool{}
	for _, msg := range msgs {
		got[msg.Header.Get("To")] = true
		body, _ := io.ReadAll(msg.Body)
		for _, want := range []string{"https://console.rempart.test/tenants/ten_acme/access-reviews/arc_1", `"2026-Q4 review"`, "7 of its\n12 accounts"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("message to %s lacks %q:\n%s", msg.Header.Get("To"), want, body)
			}
		}
	}
	if !got["<tom@example.test>"] || !got["<ann@example.test>"] {
		t.Errorf("reminded %v, want both reviewers", got)
	}
	r.Reviewers = func(context.Context, string) ([]string, error) { return nil, nil }
	if err := r.RemindReviewers(context.Background(), c, 7); err == nil {
		t.Error("a campaign without reviewers: no error, want one (no one would be reminded)")
	}
}
