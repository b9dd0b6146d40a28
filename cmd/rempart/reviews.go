package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/jobs"
	"github.com/rempart/rempart/notify"
	"github.com/rempart/rempart/reviews"
)

// Kinds of the access review jobs (IAM-9).
const (
	// jobReviewQuarterly opens the quarter's campaign of every scope that
	// lacks it; it runs daily, so the campaign opens on the quarter's first
	// day.
	jobReviewQuarterly = "reviews.quarterly"
	// jobReviewRemind records a reminder of each overdue campaign, once a
	// day.
	jobReviewRemind = "reviews.remind"
)

// setupReviews makes the access governance service and schedules its jobs:
// one job per day each, which the jobs' unique period keys give to one node.
// Each item's MFA status and grants come from the second factors (IAM-4)
// and the grants (IAM-7) of the same database. A reminder is the audited
// record the service writes and, with an SMTP relay, a mail to each
// reviewer: the tenant's admins, or the staff's system admins.
func (m *Main) setupReviews(clock interface{ Now() time.Time }) {
	facts := reviewFacts{m.DB}
	cfg := reviews.Config{MFA: facts, Grants: facts}
	if m.mailer != nil {
		cfg.Notify = &notify.ReviewReminders{Mailer: m.mailer.Mailer, ConsoleURL: m.mailer.ConsoleURL, Reviewers: facts.Reviewers}
	}
	m.Reviews = reviews.New(m.DB, clock, cfg)
	m.Jobs.Handle(jobReviewQuarterly, func(ctx context.Context, run *jobs.Run) error {
		n, err := m.Reviews.Quarterly(ctx)
		if err == nil {
			err = run.Save(ctx, nil, int64(n), int64(n))
		}
		return err
	})
	m.Jobs.Handle(jobReviewRemind, func(ctx context.Context, run *jobs.Run) error {
		n, err := m.Reviews.Remind(ctx)
		if err == nil {
			err = run.Save(ctx, nil, int64(n), int64(n))
		}
		return err
	})
	m.Jobs.AddSchedule(jobs.Schedule{Kind: jobReviewQuarterly, Every: 24 * time.Hour, At: 5 * time.Minute})
	m.Jobs.AddSchedule(jobs.Schedule{Kind: jobReviewRemind, Every: 24 * time.Hour, At: 9 * time.Hour})
}

// reviewFacts answers what an access review item shows of a person's
// second factors and grants.
type reviewFacts struct{ d *db.DB }

// MFAEnrolled reports whether the user has a confirmed second factor.
func (f reviewFacts) MFAEnrolled(ctx context.Context, userID string) (bool, error) {
	return f.d.HasConfirmedFactor(ctx, userID)
}

// ActiveGrants describes the principal's grants active at at, such as
// "grt_… read on ten_… until 2026-11-24T18:00:00Z".
func (f reviewFacts) ActiveGrants(ctx context.Context, principalID string, at time.Time) ([]string, error) {
	gs, err := f.d.ActiveGrantsOnAnyTenant(ctx, principalID, at)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range gs {
		if g.ActiveAt(at) { // approved, begun, and not revoked
			out = append(out, fmt.Sprintf("%s %s on %s until %s", g.ID, g.Scope, g.TenantID, g.ExpiresAt.UTC().Format(time.RFC3339)))
		}
	}
	return out, nil
}

// Reviewers returns the addresses of the active people who decide a
// campaign of tenant: its admins, or for staff ("") the system admins.
func (f reviewFacts) Reviewers(ctx context.Context, tenant string) ([]string, error) {
	users, err := f.d.Users(ctx, tenant)
	if err != nil {
		return nil, err
	}
	role := rempart.RoleAdmin
	if tenant == "" {
		role = rempart.RoleSystemAdmin
	}
	var out []string
	for _, u := range users {
		if u.Status == rempart.UserActive && u.Role == role {
			out = append(out, u.Email)
		}
	}
	return out, nil
}
