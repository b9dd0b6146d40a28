package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rempart/rempart"
)

// Kinds of account notice.
const (
	// NoticeChange tells that the password or a second factor changed
	// (ASVS 2.2.3, 2.5.5).
	NoticeChange = "change"
	// NoticeSignIn tells of a sign-in from a network and browser not seen
	// for the person before (ASVS 3.x, IAM-6).
	NoticeSignIn = "sign_in"
	// NoticePasswordExpiry tells that the password expires soon (IAM-3).
	NoticePasswordExpiry = "password_expiry"
)

// AccountNotice tells a person that something happened to how they sign
// in: so that what they did not do is noticed.
type AccountNotice struct {
	Kind     string // NoticeChange, NoticeSignIn or NoticePasswordExpiry
	To, Name string
	What     string // such as "Your password was changed."
	At       time.Time
	IP       string // where the change or the sign-in came from
	// Agent is the browser of a sign-in, shortened to its family and made
	// of safe characters only ("Firefox on Linux").
	Agent string
	// Expires is when the password expires (NoticePasswordExpiry).
	Expires time.Time
}

// AccountNotifier delivers account notices; identity.Config.Notices.
type AccountNotifier interface {
	NotifyAccount(ctx context.Context, n AccountNotice) error
}

// DeliveryError is a notice the relay did not take. Permanent when trying
// again cannot help (an address the relay refuses, an invalid message);
// Code is the SMTP reply code, 0 for a network or TLS failure. It names no
// address and no content, so that it can be audited.
type DeliveryError struct {
	Permanent bool
	Code      int
}

func (e *DeliveryError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	if e.Code == 0 {
		return kind + " failure"
	}
	return fmt.Sprintf("%s failure, SMTP %d", kind, e.Code)
}

// NoticeRow is an account notice waiting in the outbox. It holds what the
// message says, never the address, which is read when it is sent.
type NoticeRow struct {
	ID, UserID, TenantID string
	Kind, What, IP       string
	Agent                string
	At                   time.Time
	Expires              *time.Time
	// Attempts counts the attempts made, this one included once claimed.
	Attempts  int
	NextAt    time.Time
	CreatedAt time.Time
}

// PasswordHolder is an active person with a password, and the last
// password expiry reminder queued for them.
type PasswordHolder struct {
	ID, TenantID string
	ChangedAt    time.Time
	// RemindedFor is the password (by when it was set) the last reminder
	// was about, RemindedDays its threshold; nil when none was queued.
	RemindedFor  *time.Time
	RemindedDays int
}

// NoticeStore is what account notices need from storage: the outbox, the
// networks people signed in from, and the password reminders queued.
type NoticeStore interface {
	// QueueNotice adds n to the outbox; ERATELIMIT when the user has max
	// notices waiting already.
	QueueNotice(ctx context.Context, n NoticeRow, max int) error
	// ClaimNotices takes up to limit notices due at now for one attempt
	// each: they are not due again before leaseUntil (a node that dies
	// while sending leaves them to another) and their attempts grow by one.
	ClaimNotices(ctx context.Context, now, leaseUntil time.Time, limit int) ([]NoticeRow, error)
	// NoticeDone deletes a notice (sent, or given up) and records e.
	NoticeDone(ctx context.Context, e rempart.AuditEntry, id string) error
	// NoticeRetry makes a notice due again at next and records e.
	NoticeRetry(ctx context.Context, e rempart.AuditEntry, id string, next time.Time) error
	// RecordSignIn records that the user signed in at now from the network
	// and browser of fingerprint, forgets those last seen before since and
	// all but the keep most recent, and reports whether fingerprint was
	// known (seen since since).
	RecordSignIn(ctx context.Context, userID string, fingerprint []byte, now, since time.Time, keep int) (known bool, err error)
	// ForgetSignIns forgets, for everyone, the networks and browsers last
	// seen before before, and returns how many.
	ForgetSignIns(ctx context.Context, before time.Time) (int, error)
	// PasswordHolders lists the active people with a password.
	PasswordHolders(ctx context.Context) ([]PasswordHolder, error)
	// QueuePasswordReminder adds n to the outbox and records, in the same
	// transaction, that the reminder of days was queued for the password
	// set at changedAt.
	QueuePasswordReminder(ctx context.Context, n NoticeRow, changedAt time.Time, days int) error
}

// The outbox's limits.
const (
	// noticeAttempts bounds the attempts to send one notice.
	noticeAttempts = 6
	// noticeBackoff is the pause after the first failed attempt, doubled
	// after each (2, 4, 8, 16, 32 minutes: about an hour in all).
	noticeBackoff = 2 * time.Minute
	// noticeLease is how long a claimed notice waits before another node
	// may try it: longer than the mailer's own attempts take.
	noticeLease = 5 * time.Minute
	// noticeBatch is how many notices one SendNotices call sends at most.
	noticeBatch = 50
	// maxPendingNotices bounds a person's waiting notices, so that a flood
	// of sign-ins cannot fill the outbox.
	maxPendingNotices = 20
)

// noticeCaller is who the audit log says sent a notice.
var noticeCaller = rempart.Caller{Principal: rempart.Principal{ID: "system:notices"}}

// notify queues for userID a notice of what the caller c just changed,
// when the deployment sends mail. The change is already made: a failure to
// queue is recorded as a failed account.notice audit entry, not returned.
func (s *Service) notify(ctx context.Context, c rempart.Caller, userID, what string) {
	if s.cfg.Notices == nil {
		return
	}
	n := NoticeRow{UserID: userID, TenantID: c.Principal.TenantID, Kind: NoticeChange, What: what, IP: c.IP}
	if u, err := s.store.User(ctx, userID); err == nil {
		n.TenantID = u.TenantID
	}
	s.queueNotice(ctx, c, n)
}

// queueNotice puts n in the outbox for the sender (SendNotices), and wakes
// it. Sign-ins and changes never wait for the relay.
func (s *Service) queueNotice(ctx context.Context, c rempart.Caller, n NoticeRow) {
	if s.cfg.Notices == nil {
		return
	}
	now := s.clock.Now()
	n.ID, n.At, n.NextAt, n.CreatedAt = rempart.NewID("ntc"), now, now, now
	err := s.store.QueueNotice(ctx, n, maxPendingNotices)
	if err == nil {
		s.wakeSender()
		return
	}
	e := c.Entry(n.TenantID, "account.notice", "users/"+n.UserID)
	e.Outcome, e.Reason = rempart.OutcomeFailure, n.Kind+": "+n.What+" (not queued: "+rempart.ErrorCode(err)+")"
	_, _ = s.store.Audit(ctx, e) // best effort, like the notice itself
}

func (s *Service) wakeSender() {
	select {
	case s.noticeWake <- struct{}{}:
	default:
	}
}

// NoticesQueued receives when a notice was queued, so that the sender can
// run at once rather than at its next tick.
func (s *Service) NoticesQueued() <-chan struct{} { return s.noticeWake }

// SendNotices sends the account notices due now, at most a batch, and
// returns how many were sent. Each attempt's result is audited as
// account.notice: sent; failed, with the next attempt's time; or failed
// and given up, after noticeAttempts attempts or a permanent refusal. A
// sent or given-up notice is deleted from the outbox.
func (s *Service) SendNotices(ctx context.Context) (int, error) {
	if s.cfg.Notices == nil {
		return 0, nil
	}
	sent := 0
	for range noticeBatch {
		// One at a time: a slow relay must not hold a batch past its
		// lease, when another node would take and send it again.
		now := s.clock.Now()
		ns, err := s.store.ClaimNotices(ctx, now, now.Add(noticeLease), 1)
		if err != nil || len(ns) == 0 {
			return sent, err
		}
		n := ns[0]
		e := noticeCaller.Entry(n.TenantID, "account.notice", "users/"+n.UserID+"/notices/"+n.ID)
		e.Reason = n.Kind + ": " + n.What
		u, err := s.store.User(ctx, n.UserID)
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			e.Outcome, e.Reason = rempart.OutcomeFailure, e.Reason+" (not sent: the person was deleted)"
			if err := s.store.NoticeDone(ctx, e, n.ID); err != nil {
				return sent, err
			}
			continue
		} else if err != nil {
			return sent, err
		}
		an := AccountNotice{Kind: n.Kind, To: u.Email, Name: u.Name, What: n.What, At: n.At, IP: n.IP, Agent: n.Agent}
		if n.Expires != nil {
			an.Expires = *n.Expires
		}
		err = s.cfg.Notices.NotifyAccount(ctx, an)
		if err == nil {
			if err := s.store.NoticeDone(ctx, e, n.ID); err != nil {
				return sent, err
			}
			sent++
			continue
		}
		e.Outcome = rempart.OutcomeFailure
		why := describeDelivery(err)
		var de *DeliveryError
		if (errors.As(err, &de) && de.Permanent) || n.Attempts >= noticeAttempts {
			e.Reason += fmt.Sprintf(" (attempt %d of %d failed: %s; given up)", n.Attempts, noticeAttempts, why)
			err = s.store.NoticeDone(ctx, e, n.ID)
		} else {
			next := now.Add(noticeBackoff << (n.Attempts - 1))
			e.Reason += fmt.Sprintf(" (attempt %d of %d failed: %s; next at %s)", n.Attempts, noticeAttempts, why, next.UTC().Format(time.RFC3339))
			err = s.store.NoticeRetry(ctx, e, n.ID, next)
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// describeDelivery says why a notice was not sent, without an address.
func describeDelivery(err error) string {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Error()
	}
	return rempart.ErrorCode(err)
}
