package identity

import (
	"context"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity/password"
)

var errBadSignIn = rempart.Errorf(rempart.EUNAUTHORIZED, "The email or password is incorrect.")

// touchEvery is how stale a session's last use may get before a request
// records it: one write a minute per session rather than one per request.
const touchEvery = time.Minute

// maxPassword bounds a presented password before any work is spent on it.
const maxPassword = 1024

// SignIn checks a person's email and password (see checkPassword) and,
// when the person has a second factor, the TOTP or recovery code in
// in.Code, then opens a session of kind (rempart.SessionConsole or
// rempart.SessionAPI) (IAM-3, IAM-4, IAM-6). Without the code it answers
// EMFAREQUIRED carrying a challenge (rempart.Error.Challenge), the pending
// second step for CompleteSignIn or, with a security key,
// BeginWebAuthnLogin and CompleteSignInWebAuthn: the password is not sent
// again. The console uses StartSignIn instead.
func (s *Service) SignIn(ctx context.Context, c rempart.Caller, in rempart.SignIn, kind string) (rempart.SessionCreated, error) {
	if kind != rempart.SessionConsole && kind != rempart.SessionAPI {
		return rempart.SessionCreated{}, rempart.Errorf(rempart.EINVALID, "unknown session kind %q", kind)
	}
	u, e, err := s.signInPassword(ctx, c, in)
	if err != nil {
		return rempart.SessionCreated{}, err
	}
	fs, err := s.confirmedFactors(ctx, u.ID)
	if err != nil {
		return rempart.SessionCreated{}, err
	}
	if len(fs) == 0 {
		if in.Code != "" {
			e.Reason = "second factor given"
			return rempart.SessionCreated{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "No second factor is enrolled on this account; leave the code empty."))
		}
		return s.openSession(ctx, c, e, u.User, kind)
	}
	if in.Code == "" {
		if s.mfa == nil {
			return rempart.SessionCreated{}, s.deny(ctx, e, errNoMFAKey)
		}
		e.Reason = "second factor missing"
		ch := s.newChallenge(u.ID, kind, fs)
		return rempart.SessionCreated{}, s.deny(ctx, e, &rempart.Error{Code: rempart.EMFAREQUIRED, Challenge: &ch,
			Message: "This account has a second factor: continue with the challenge (a code to POST /api/v1/sessions/code, or a security key through POST /api/v1/sessions/webauthn/options), or send the code with the password."})
	}
	if err := s.checkSecondFactor(ctx, c, &e, u, in.Code); err != nil {
		return rempart.SessionCreated{}, err
	}
	return s.openSession(ctx, c, e, u.User, kind, s.clock.Now())
}

// signInPassword is the password half of a sign-in: the checks of
// checkPassword, an expired password, and a rehash. It returns the audit
// entry to complete.
func (s *Service) signInPassword(ctx context.Context, c rempart.Caller, in rempart.SignIn) (UserRow, rempart.AuditEntry, error) {
	e := c.Entry("", "auth.sign_in", "")
	if len(in.Code) > maxCode {
		e.Reason = "malformed"
		return UserRow{}, e, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "code is at most %d characters.", maxCode))
	}
	u, rehash, err := s.checkPassword(ctx, c, &e, in.Email, in.Password)
	if err != nil {
		return UserRow{}, e, err
	}
	now := s.clock.Now()
	pol, err := s.policyFor(ctx, u.TenantID)
	if err != nil {
		return UserRow{}, e, err
	}
	if u.PasswordChangedAt != nil && pol.Expired(*u.PasswordChangedAt, now) {
		e.Reason = "password expired"
		return UserRow{}, e, s.deny(ctx, e, rempart.Errorf(rempart.EFORBIDDEN, "Your password has expired. Choose a new one (POST /api/v1/password) and sign in again."))
	}
	if rehash {
		if h, err := s.cfg.Hasher.Hash(ctx, in.Password); err == nil {
			_ = s.store.Rehash(ctx, u.ID, u.PasswordHash, h) // best effort: the next sign-in tries again
		}
	}
	return u, e, nil
}

// openSession opens a session of kind for u, whoever checked who u is
// (password, second factor, single sign-on), and records e with it in one
// transaction. mfaAt, when given, is when u proved a second factor. A
// person who must have a second factor (staff; users of a tenant that
// requires MFA) and has none gets an enrolment-only session (IAM-4).
func (s *Service) openSession(ctx context.Context, c rempart.Caller, e rempart.AuditEntry, u rempart.User, kind string, mfaAt ...time.Time) (rempart.SessionCreated, error) {
	now := s.clock.Now()
	idle, life := s.cfg.SessionIdle, s.cfg.SessionLifetime
	if kind == rempart.SessionAPI {
		idle, life = s.cfg.AccessTokenLifetime, s.cfg.AccessTokenLifetime
	}
	id, token, secret := newToken(sessionPrefix, "ses")
	row := SessionRow{Session: rempart.Session{ID: id, UserID: u.ID, Kind: kind, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(life), IP: c.IP, UserAgent: c.UserAgent},
		Principal: rempart.Principal{ID: u.ID, Name: u.Name, TenantID: u.TenantID, Role: u.Role}, TokenHash: tokenHash("session", secret), IdleTimeout: idle}
	e.CredentialID, e.Resource, e.Reason = id, "users/"+u.ID+"/sessions/"+id, kind
	if len(mfaAt) > 0 {
		t := mfaAt[0]
		row.MFAAt = &t
		e.Reason += "; second factor"
	} else {
		must, err := s.mustHaveMFA(ctx, u)
		if err != nil {
			return rempart.SessionCreated{}, err
		}
		if must {
			fs, err := s.confirmedFactors(ctx, u.ID)
			if err != nil {
				return rempart.SessionCreated{}, err
			}
			if len(fs) > 0 {
				// Only a path that checked the second factor may open a
				// session for someone who has one.
				e.Reason = "second factor not checked"
				return rempart.SessionCreated{}, s.deny(ctx, e, rempart.Errorf(rempart.EMFAREQUIRED, "This account has a second factor: sign in with its code."))
			}
			row.EnrolOnly = true
			e.Reason += "; enrolment only (no second factor yet)"
		}
	}
	if err := s.store.CreateSession(ctx, e, row); err != nil {
		return rempart.SessionCreated{}, err
	}
	s.noticeSignIn(ctx, c, u, kind)
	return rempart.SessionCreated{Session: row.Session, Token: token}, nil
}

// isSessionToken reports whether a presented credential is a session token
// rather than an API key.
func isSessionToken(token string) bool { return strings.HasPrefix(token, sessionPrefix) }

// AuthenticateSession turns a session token of kind into a caller (IAM-6).
// A console session is not an API token and the reverse: the API takes only
// short-lived access tokens. Every failure is audited and answers the same
// EUNAUTHORIZED.
func (s *Service) AuthenticateSession(ctx context.Context, c rempart.Caller, token, kind string) (rempart.Caller, error) {
	e := c.Entry("", "auth.session", "")
	id, secret, ok := parseToken(token, sessionPrefix, "ses")
	if !ok {
		e.Reason = "malformed"
		return c, s.fail(ctx, e)
	}
	e.CredentialID = id
	row, err := s.store.SessionByID(ctx, id)
	if err != nil && rempart.ErrorCode(err) != rempart.ENOTFOUND {
		return c, err
	}
	now := s.clock.Now()
	switch {
	case err != nil:
		e.Reason = "unknown session"
	case !equalHash(row.TokenHash, tokenHash("session", secret)):
		e.Reason = "wrong secret"
	case row.Kind != kind:
		e.Reason = "a " + row.Kind + " session used as " + kind
	case row.RevokedAt != nil:
		e.Reason = "revoked"
	case !now.Before(row.ExpiresAt):
		e.Reason = "expired"
	case !now.Before(row.LastSeenAt.Add(row.IdleTimeout)):
		e.Reason = "idle"
	case row.UserDeleted || row.UserStatus != rempart.UserActive:
		e.Reason = "user " + row.UserStatus
	default:
		if now.Sub(row.LastSeenAt) >= touchEvery {
			if err := s.store.TouchSession(ctx, id, now); err != nil {
				return c, err
			}
		}
		c.Principal, c.CredentialID = row.Principal, id
		c.EnrolOnly = row.EnrolOnly
		c.RecentMFA = row.MFAAt != nil && now.Sub(*row.MFAAt) < s.cfg.StepUpWindow
		return c, nil
	}
	if err == nil {
		e.PrincipalID, e.TenantID = row.Principal.ID, row.Principal.TenantID
	}
	return c, s.fail(ctx, e)
}

// SignOut ends the caller's own session.
func (s *Service) SignOut(ctx context.Context, c rempart.Caller) error {
	e, err := s.personal(ctx, c, "auth.sign_out", "/sessions/"+c.CredentialID)
	if err != nil {
		return err
	}
	return s.store.RevokeSession(ctx, e, c.Principal.ID, c.CredentialID, "signed out")
}

// isSessionCredential reports whether the caller authenticated with a
// session rather than an API key.
func isSessionCredential(c rempart.Caller) bool { return strings.HasPrefix(c.CredentialID, "ses_") }

var errNotAPerson = rempart.Errorf(rempart.ENOTFOUND, "This credential belongs to a service account, not a person.")

// personal starts the audit entry of a request about the caller's own
// account, and refuses (audited) a caller that is not a person signed in.
func (s *Service) personal(ctx context.Context, c rempart.Caller, action, resource string) (rempart.AuditEntry, error) {
	e := c.Entry(c.Principal.TenantID, action, "users/"+c.Principal.ID+resource)
	if !isSessionCredential(c) {
		return e, s.deny(ctx, e, errNotAPerson)
	}
	return e, nil
}

// Me returns the signed-in user.
func (s *Service) Me(ctx context.Context, c rempart.Caller) (rempart.User, error) {
	// A person's own key may read who it is: a script checks its key so.
	e := c.Entry(c.Principal.TenantID, "user.read", "users/"+c.Principal.ID)
	if !isSessionCredential(c) && !rempart.IsPersonalKey(c.CredentialID) {
		return rempart.User{}, s.deny(ctx, e, errNotAPerson)
	}
	u, err := s.store.User(ctx, c.Principal.ID)
	if err != nil {
		return rempart.User{}, err
	}
	if _, err = s.store.Audit(ctx, e); err != nil {
		return rempart.User{}, err
	}
	pol, err := s.policyFor(ctx, u.TenantID)
	return withExpiry(u.User, pol), err
}

// Sessions lists the caller's own sessions, marking the one in use (IAM-6).
func (s *Service) Sessions(ctx context.Context, c rempart.Caller) ([]rempart.Session, error) {
	e, err := s.personal(ctx, c, "session.list", "/sessions")
	if err != nil {
		return nil, err
	}
	out, err := s.store.UserSessions(ctx, c.Principal.ID, s.clock.Now())
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Current = out[i].ID == c.CredentialID
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// RevokeSession ends one of the caller's own sessions at once (IAM-6);
// another person's session is not found.
func (s *Service) RevokeSession(ctx context.Context, c rempart.Caller, id string) error {
	e, err := s.personal(ctx, c, "session.revoke", "/sessions/"+id)
	if err != nil {
		return err
	}
	if err := s.store.RevokeSession(ctx, e, c.Principal.ID, id, "revoked by the user"); err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			// Not one of the caller's sessions: a refusal to record
			// (AUD-1).
			return s.deny(ctx, e, err)
		}
		return err
	}
	return nil
}

// ChangePassword replaces a person's password, checked against the policy
// and the last passwords (IAM-3). It takes the email and current password
// rather than a session, so that an expired password can be changed; it is
// throttled like a sign-in. Every session of the user ends.
func (s *Service) ChangePassword(ctx context.Context, c rempart.Caller, in rempart.PasswordChange) error {
	e := c.Entry("", "user.password_change", "")
	if len(in.New) > maxPassword {
		return s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "The new password is longer than %d bytes.", maxPassword))
	}
	// The same checks as a sign-in, without opening a session.
	u, _, err := s.checkPassword(ctx, c, &e, in.Email, in.Current)
	if err != nil {
		return err
	}
	checker, pol, err := s.checkerFor(ctx, u.TenantID)
	if err != nil {
		return err
	}
	prev, err := s.store.PasswordHistory(ctx, u.ID, pol.History)
	if err != nil {
		return err
	}
	if _, err := checker.Check(ctx, in.New, password.Account{Email: u.Email, Name: u.Name}, prev); err != nil {
		return s.deny(ctx, e, err)
	}
	hash, err := s.cfg.Hasher.Hash(ctx, in.New)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, e, u.ID, hash, s.clock.Now(), pol.History); err != nil {
		return err
	}
	s.notify(ctx, c, u.ID, "Your password was changed, and every session of yours ended.")
	return nil
}

// checkPassword verifies a person's email and password, expired or not, and
// returns the user and whether its hash needs remaking. Every failure
// answers the same EUNAUTHORIZED after the same work, whether the account
// exists or not, and is audited; failures are throttled per account and per
// IP.
func (s *Service) checkPassword(ctx context.Context, c rempart.Caller, e *rempart.AuditEntry, email, pw string) (UserRow, bool, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || len(pw) > maxPassword {
		e.Reason = "malformed"
		return UserRow{}, false, s.deny(ctx, *e, errBadSignIn)
	}
	if d := s.cfg.Throttle.Check(email, c.IP); !d.Allowed() {
		e.Reason = "throttled"
		return UserRow{}, false, s.deny(ctx, *e, d.Err())
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && rempart.ErrorCode(err) != rempart.ENOTFOUND {
		return UserRow{}, false, err
	}
	ok, rehash := false, false
	if err != nil || u.PasswordHash == "" {
		// The same work, and the same answer when the hasher is saturated,
		// as for an account that exists.
		err = s.cfg.Hasher.Equalize(ctx, pw)
		e.Reason = "unknown account"
	} else {
		e.PrincipalID, e.TenantID, e.Resource = u.ID, u.TenantID, "users/"+u.ID
		ok, rehash, err = s.cfg.Hasher.Verify(ctx, pw, u.PasswordHash)
	}
	if err != nil {
		e.Reason = strings.TrimPrefix(e.Reason+"; password check unavailable", "; ")
		return UserRow{}, false, s.deny(ctx, *e, err)
	}
	if e.PrincipalID != "" {
		switch {
		case !ok:
			e.Reason = "wrong password"
		case u.Status != rempart.UserActive:
			e.Reason = "user " + u.Status
		}
	}
	if e.Reason != "" {
		for _, ev := range s.cfg.Throttle.Failure(email, c.IP).Events {
			// A security event of its own, for monitoring to query.
			ee := *e
			ee.Action, ee.Outcome = string(ev), rempart.OutcomeDenied
			if _, err := s.store.Audit(ctx, ee); err != nil {
				return UserRow{}, false, err
			}
		}
		return UserRow{}, false, s.deny(ctx, *e, errBadSignIn)
	}
	s.cfg.Throttle.Success(email, c.IP)
	return u, rehash, nil
}
