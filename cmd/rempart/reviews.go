package main

import (
	"context"
	"time"

	"github.com/rempart/rempart/jobs"
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
//
// MFA status, grants and reminder delivery use the service's defaults (no
// factor enrolled, no grants, the audited reminder record only) until those
// parts are wired here through reviews.Config.
func (m *Main) setupReviews(clock interface{ Now() time.Time }) {
	m.Reviews = reviews.New(m.DB, clock, reviews.Config{})
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
