package identity

import (
	"context"
	"time"

	"github.com/rempart/rempart"
)

// AccountNotice tells a person that something changed how they sign in
// (ASVS 2.2.3, 2.5.5): so that a change they did not make is noticed.
type AccountNotice struct {
	To, Name string
	What     string // such as "Your password was changed."
	At       time.Time
	IP       string // where the change came from
}

// AccountNotifier delivers account notices; identity.Config.Notices.
type AccountNotifier interface {
	NotifyAccount(ctx context.Context, n AccountNotice) error
}

// notify sends userID a notice of what the caller c just changed, when the
// deployment sends mail. The change is already made: a failure to send is
// recorded as a failed account.notice audit entry, not returned.
func (s *Service) notify(ctx context.Context, c rempart.Caller, userID, what string) {
	if s.cfg.Notices == nil {
		return
	}
	e := c.Entry(c.Principal.TenantID, "account.notice", "users/"+userID)
	u, err := s.store.User(ctx, userID)
	if err == nil {
		e.TenantID = u.TenantID
		err = s.cfg.Notices.NotifyAccount(ctx, AccountNotice{To: u.Email, Name: u.Name, What: what, At: s.clock.Now(), IP: c.IP})
	}
	e.Reason = what
	if err != nil {
		e.Outcome, e.Reason = rempart.OutcomeFailure, what+" (not sent: "+rempart.ErrorCode(err)+")"
	}
	_, _ = s.store.Audit(ctx, e) // best effort, like the notice itself
}
