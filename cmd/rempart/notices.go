package main

import (
	"context"
	"time"

	"github.com/rempart/rempart/jobs"
)

// Account notices (ASVS 2.2.3, 2.5.5, 3.x; IAM-3, IAM-6). With an SMTP
// relay, identity queues a notice in the database's outbox when a password
// or a second factor changes and when someone signs in from a network and
// browser not seen for them before; each node's sender mails what is due,
// at once when its own node queued it and otherwise within noticeTick, and
// retries failures with a growing pause (identity.SendNotices). A daily
// job queues the password expiry reminders.
const (
	noticeTick = 30 * time.Second
	// jobPasswordExpiry queues the reminders of passwords that expire
	// within 14 days, and again within 3 (IAM-3), once a day.
	jobPasswordExpiry = "identity.password_expiry"
)

// setupNotices schedules the password expiry reminders; without a relay
// there is nothing to send and nothing is scheduled.
func (m *Main) setupNotices() {
	if m.mailer == nil {
		return
	}
	m.Jobs.Handle(jobPasswordExpiry, func(ctx context.Context, run *jobs.Run) error {
		n, err := m.Identity.RemindPasswordExpiry(ctx)
		if err == nil {
			err = run.Save(ctx, nil, int64(n), int64(n))
		}
		return err
	})
	m.Jobs.AddSchedule(jobs.Schedule{Kind: jobPasswordExpiry, Every: 24 * time.Hour, At: 8 * time.Hour})
}

// sendNotices runs the outbox's sender until ctx ends.
func (m *Main) sendNotices(ctx context.Context) {
	defer m.jobs.Done()
	t := time.NewTicker(noticeTick)
	defer t.Stop()
	for {
		if _, err := m.Identity.SendNotices(ctx); err != nil && ctx.Err() == nil {
			m.Logger.Error("job failed", "job", "account notices", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.Identity.NoticesQueued():
		}
	}
}
