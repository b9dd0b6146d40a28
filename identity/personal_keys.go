package identity

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// Personal API keys (IAM-6): a person's own long-lived credential for
// scripts, with a mandatory expiry. A key authenticates as its person, with
// the person's current role and status, read from the database on every
// request; it never proves a second factor, so it cannot do what needs a
// step-up (guard.StepUp) and cannot make another personal key: a stolen key
// cannot perpetuate itself or get around MFA.

// personalKeyPrefix starts a personal key's token: "rpk_<ID suffix>.<secret>",
// the format of every rempart secret (keys.go).
const personalKeyPrefix = "rpk_"

// maxPersonalKeys bounds the keys a person holds at once.
const maxPersonalKeys = 20

// PersonalKeyRow is a personal key as stored, with its person.
type PersonalKeyRow struct {
	rempart.PersonalKey
	Hash      []byte // hashSecret of the secret
	RevokedAt *time.Time
	// Principal is the key's person as of now: current name, tenant, role.
	Principal   rempart.Principal
	UserStatus  string
	UserDeleted bool
}

// PersonalKeyStore keeps personal keys.
type PersonalKeyStore interface {
	// CreatePersonalKey stores a key with e, refusing (EINVALID) when the
	// person already holds max keys that still work.
	CreatePersonalKey(ctx context.Context, e rempart.AuditEntry, k PersonalKeyRow, max int) error
	// PersonalKey returns a key with its person, or ENOTFOUND.
	PersonalKey(ctx context.Context, id string) (PersonalKeyRow, error)
	// PersonalKeys lists a person's keys neither revoked nor expired at now.
	PersonalKeys(ctx context.Context, userID string, now time.Time) ([]rempart.PersonalKey, error)
	// RevokePersonalKey revokes one of a person's keys with e; ENOTFOUND
	// when it is not theirs or already revoked.
	RevokePersonalKey(ctx context.Context, e rempart.AuditEntry, userID, id string) error
	// TouchPersonalKey records a key's last use.
	TouchPersonalKey(ctx context.Context, id string, t time.Time) error
}

// isPersonalKeyToken reports whether a presented credential is a personal
// key.
func isPersonalKeyToken(token string) bool { return strings.HasPrefix(token, personalKeyPrefix) }

// authenticatePersonalKey turns a personal key into a caller: its person,
// with the person's current role, and never a recent second factor. Every
// failure is audited and answers the same EUNAUTHORIZED as any other
// credential.
func (s *Service) authenticatePersonalKey(ctx context.Context, c rempart.Caller, token string) (rempart.Caller, error) {
	e := c.Entry("", "auth.personal_key", "")
	id, secret, ok := parseToken(token, personalKeyPrefix, rempart.PersonalKeyKind)
	if !ok {
		e.Reason = "malformed"
		return c, s.fail(ctx, e)
	}
	e.CredentialID = id
	k, err := s.store.PersonalKey(ctx, id)
	if err != nil && rempart.ErrorCode(err) != rempart.ENOTFOUND {
		return c, err
	}
	now := s.clock.Now()
	switch {
	case err != nil:
		e.Reason = "unknown key"
	case !equalHash(k.Hash, hashSecret(secret)):
		e.Reason = "wrong secret"
	case k.RevokedAt != nil:
		e.Reason = "revoked"
	case !now.Before(k.ExpiresAt):
		e.Reason = "expired"
	case k.UserDeleted || k.UserStatus != rempart.UserActive:
		e.Reason = "user " + k.UserStatus
	default:
		// A person who must have a second factor and has none any more
		// (their tenant began requiring one, say) gets no more than an
		// enrolment-only session would: nothing.
		must, err := s.mustHaveMFA(ctx, rempart.User{ID: k.UserID, TenantID: k.Principal.TenantID})
		if err != nil {
			return c, err
		}
		if must {
			fs, err := s.confirmedFactors(ctx, k.UserID)
			if err != nil {
				return c, err
			}
			if len(fs) == 0 {
				e.Reason = "second factor required but not enrolled"
				break
			}
		}
		if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= touchEvery {
			if err := s.store.TouchPersonalKey(ctx, id, now); err != nil {
				return c, err
			}
		}
		c.Principal, c.CredentialID = k.Principal, id
		return c, nil
	}
	if err == nil {
		e.PrincipalID, e.TenantID = k.Principal.ID, k.Principal.TenantID
	}
	return c, s.fail(ctx, e)
}

// personKey starts the audit entry of a request about the caller's own
// personal keys, and refuses (audited) a caller that is not a person: a
// session or one of the person's keys.
func (s *Service) personKey(ctx context.Context, c rempart.Caller, action, resource string) (rempart.AuditEntry, error) {
	e := c.Entry(c.Principal.TenantID, action, "users/"+c.Principal.ID+"/api-keys"+resource)
	if !isSessionCredential(c) && !rempart.IsPersonalKey(c.CredentialID) {
		return e, s.deny(ctx, e, errNotAPerson)
	}
	return e, nil
}

// maxKeyDays is the longest a key may live, in days: the deployment's key
// lifetime, the bound of service accounts' keys too.
func (s *Service) maxKeyDays() int { return int(s.cfg.KeyLifetime / (24 * time.Hour)) }

// CreatePersonalKey issues a key for the signed-in person (IAM-6). It needs
// a session, not a personal key (no credential makes its own successor);
// not an enrolment-only session; and, when the person has a second factor,
// one proven within the step-up window (IAM-4), so that a key is never a
// way around it. The expiry is mandatory. The secret is returned once and
// stored only as a hash.
func (s *Service) CreatePersonalKey(ctx context.Context, c rempart.Caller, in rempart.PersonalKeyCreate) (rempart.PersonalKeyCreated, error) {
	id, token, secret := newToken(personalKeyPrefix, rempart.PersonalKeyKind)
	e, err := s.personKey(ctx, c, "personal_key.create", "/"+id)
	if err != nil {
		return rempart.PersonalKeyCreated{}, err
	}
	if !isSessionCredential(c) {
		return rempart.PersonalKeyCreated{}, s.deny(ctx, e, rempart.Errorf(rempart.EFORBIDDEN, "A personal API key cannot create another: sign in to create one."))
	}
	if c.EnrolOnly {
		return rempart.PersonalKeyCreated{}, s.deny(ctx, e, guard.ErrEnrolOnly)
	}
	fs, err := s.confirmedFactors(ctx, c.Principal.ID)
	if err != nil {
		return rempart.PersonalKeyCreated{}, err
	}
	if len(fs) > 0 {
		if err := guard.StepUp(c); err != nil {
			return rempart.PersonalKeyCreated{}, s.deny(ctx, e, err)
		}
	}
	name := strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 64 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return rempart.PersonalKeyCreated{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "name is 1 to 64 characters on one line."))
	}
	max := s.maxKeyDays()
	if in.ExpiresInDays < 1 || in.ExpiresInDays > max {
		return rempart.PersonalKeyCreated{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "expires_in_days is required: a personal API key expires after 1 to %d days.", max))
	}
	now := s.clock.Now()
	k := PersonalKeyRow{PersonalKey: rempart.PersonalKey{ID: id, Name: name, UserID: c.Principal.ID, TenantID: c.Principal.TenantID,
		CreatedAt: now, ExpiresAt: now.Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour)}, Hash: hashSecret(secret)}
	e.Reason = "expires in " + strconv.Itoa(in.ExpiresInDays) + " days"
	if err := s.store.CreatePersonalKey(ctx, e, k, maxPersonalKeys); err != nil {
		if rempart.ErrorCode(err) == rempart.EINVALID {
			return rempart.PersonalKeyCreated{}, s.deny(ctx, e, err)
		}
		return rempart.PersonalKeyCreated{}, err
	}
	return rempart.PersonalKeyCreated{PersonalKey: k.PersonalKey, Secret: token}, nil
}

// PersonalKeys lists the caller's own keys that still work, marking the one
// in use; never their secrets.
func (s *Service) PersonalKeys(ctx context.Context, c rempart.Caller) ([]rempart.PersonalKey, error) {
	e, err := s.personKey(ctx, c, "personal_key.list", "")
	if err != nil {
		return nil, err
	}
	out, err := s.store.PersonalKeys(ctx, c.Principal.ID, s.clock.Now())
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Current = out[i].ID == c.CredentialID
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// RevokePersonalKey revokes one of the caller's own keys; the next request
// with it is refused (IAM-8). Another person's key is not found.
func (s *Service) RevokePersonalKey(ctx context.Context, c rempart.Caller, id string) error {
	if len(id) > 64 {
		id = id[:64]
	}
	e, err := s.personKey(ctx, c, "personal_key.revoke", "/"+id)
	if err != nil {
		return err
	}
	if err := s.store.RevokePersonalKey(ctx, e, c.Principal.ID, id); err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return s.deny(ctx, e, err)
		}
		return err
	}
	return nil
}
