package identity

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity/password"
)

// reminderDays are the thresholds of password expiry reminders, most
// urgent first: a person is reminded when their password expires within 14
// days, and again within 3 (IAM-3).
var reminderDays = []int{3, 14}

// RemindPasswordExpiry queues a reminder for each active person whose
// password expires within a threshold of reminderDays and who was not yet
// reminded at that threshold for this password: at most once per
// threshold per password (a new password starts again). People without a
// password (single sign-on only), or whose policy has no expiry, get none;
// neither do those whose password has expired already (sign-in tells
// them). A person first seen within 3 days gets the 3-day reminder only.
// It returns how many reminders it queued; the daily job calls it.
func (s *Service) RemindPasswordExpiry(ctx context.Context) (int, error) {
	if s.cfg.Notices == nil {
		return 0, nil
	}
	hs, err := s.store.PasswordHolders(ctx)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	pols := map[string]password.Policy{}
	queued := 0
	for _, h := range hs {
		pol, ok := pols[h.TenantID]
		if !ok {
			if pol, err = s.policyFor(ctx, h.TenantID); err != nil {
				return queued, err
			}
			pols[h.TenantID] = pol
		}
		exp, ok := pol.ExpiresAt(h.ChangedAt)
		if !ok || !now.Before(exp) {
			continue
		}
		days := 0
		for _, d := range reminderDays {
			if exp.Sub(now) <= time.Duration(d)*day {
				days = d
				break
			}
		}
		if days == 0 || h.RemindedFor != nil && h.RemindedFor.Equal(h.ChangedAt) && h.RemindedDays <= days {
			continue
		}
		n := NoticeRow{ID: rempart.NewID("ntc"), UserID: h.ID, TenantID: h.TenantID, Kind: NoticePasswordExpiry, At: now, NextAt: now, CreatedAt: now,
			What: "Your password expires on " + exp.UTC().Format("Monday 2 January 2006 at 15:04 MST") + ".", Expires: &exp}
		if err := s.store.QueuePasswordReminder(ctx, n, h.ChangedAt, days); err != nil {
			e := noticeCaller.Entry(h.TenantID, "account.notice", "users/"+h.ID)
			e.Outcome, e.Reason = rempart.OutcomeFailure, NoticePasswordExpiry+": "+n.What+" (not queued: "+rempart.ErrorCode(err)+")"
			if _, err := s.store.Audit(ctx, e); err != nil {
				return queued, err
			}
			continue
		}
		queued++
	}
	if queued > 0 {
		s.wakeSender()
	}
	return queued, nil
}
