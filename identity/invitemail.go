package identity

import (
	"context"
	"errors"
	"time"

	"github.com/rempart/rempart"
)

// InvitationMailer sends an invitee the one-time link of their invitation
// (IAM-1), such as notify.Invitations. The token travels only in the
// message: it is never stored or logged in clear.
type InvitationMailer interface {
	MailInvitation(ctx context.Context, m InvitationMail) error
}

// InvitationMail is what the invitation message says.
type InvitationMail struct {
	To         string
	Token      string // the one-time secret
	Role       string
	TenantID   string // "" for staff
	TenantName string
	ExpiresAt  time.Time
}

// mailInvitation sends a new invitation's link to its invitee. When that
// fails, even after the mailer's retries, the invitation is withdrawn in
// the same transaction as the audit entry of the failure, so that no link
// that nobody received stays valid, and the inviter is told to try again.
// The inviter never sees the token: only the invitee can use it.
func (s *Service) mailInvitation(ctx context.Context, c rempart.Caller, inv rempart.Invitation, token string) (rempart.InvitationCreated, error) {
	e := c.Entry(inv.TenantID, "invitation.mail", peoplePath(inv.TenantID)+"/invitations/"+inv.ID)
	m := InvitationMail{To: inv.Email, Token: token, Role: inv.Role, TenantID: inv.TenantID, ExpiresAt: inv.ExpiresAt}
	if inv.TenantID != "" {
		t, err := s.store.Tenant(ctx, inv.TenantID)
		if err != nil {
			return rempart.InvitationCreated{}, s.withdraw(ctx, e, inv, err)
		}
		m.TenantName = t.Name
	}
	if err := s.cfg.Mailer.MailInvitation(ctx, m); err != nil {
		return rempart.InvitationCreated{}, s.withdraw(ctx, e, inv, err)
	}
	e.Reason = "sent"
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.InvitationCreated{}, err
	}
	return rempart.InvitationCreated{Invitation: inv, Mailed: true}, nil
}

// withdraw revokes an invitation whose message could not be sent.
func (s *Service) withdraw(ctx context.Context, e rempart.AuditEntry, inv rempart.Invitation, cause error) error {
	ctx = context.WithoutCancel(ctx) // a client that went away still leaves no live link behind
	e.Outcome, e.Reason = rempart.OutcomeFailure, "not sent; invitation withdrawn"
	if err := s.store.RevokeInvitation(ctx, e, inv.TenantID, inv.ID); err != nil {
		return errors.Join(err, rempart.Errorf(rempart.EINTERNAL, "The invitation could not be mailed nor withdrawn."))
	}
	// The mail error names the relay's answer, never a secret.
	return rempart.Errorf(rempart.EUNAVAILABLE, "The invitation could not be mailed to %s and has been withdrawn: %v. Check the address, or try again later.", inv.Email, cause)
}

// SetMailer makes the service mail invitation links from now on (nil:
// return them to the inviter). Call it before serving requests.
func (s *Service) SetMailer(m InvitationMailer) { s.cfg.Mailer = m }
