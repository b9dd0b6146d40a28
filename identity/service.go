package identity

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/identity/password"
)

// Config tunes credentials.
type Config struct {
	// KeyLifetime is the default and maximum lifetime of an API key (IAM-6);
	// default 90 days.
	KeyLifetime time.Duration
	// BootstrapLifetime is how long a bootstrap token stays valid; default 24h.
	BootstrapLifetime time.Duration

	// People (IAM-1, IAM-3, IAM-6); see people.go for the defaults.

	// PasswordPolicy is the deployment's password policy (IAM-3);
	// password.DefaultPolicy when zero. New panics on a policy below the
	// floors: validate settings with its Validate method first.
	PasswordPolicy password.Policy
	// Hasher hashes passwords; one shared by the process, at the default
	// costs, when nil.
	Hasher *password.Hasher
	// Breach, when set, refuses new passwords seen in known breaches.
	Breach password.BreachChecker
	// Throttle slows down password guessing per account and per IP;
	// one in memory with the default settings when nil.
	Throttle *password.Throttle
	// InvitationLifetime is how long an invitation link works.
	InvitationLifetime time.Duration
	// Mailer, when set, mails invitation links to invitees instead of
	// returning them to the inviter (see invitemail.go).
	Mailer InvitationMailer
	// SessionIdle and SessionLifetime end a console session after that
	// long without use, and that long after sign-in whatever the use.
	SessionIdle, SessionLifetime time.Duration
	// AccessTokenLifetime is the lifetime of a person's API access token;
	// at most one hour (IAM-6).
	AccessTokenLifetime time.Duration

	// MFA (IAM-4); see mfa.go.

	// MFAKey is the 32-byte key that seals TOTP secrets and sign-in
	// challenges: a deployment secret wrapped by the root key. Without it no
	// second factor can be enrolled or checked (fail closed).
	MFAKey []byte
	// StepUpWindow is how recently a session must have proved a second
	// factor for a sensitive action; default 10 minutes.
	StepUpWindow time.Duration
	// TOTPIssuer names the deployment in authenticator apps; "rempart".
	TOTPIssuer string
	// TOTPSkew is how many 30-second steps either side a code may be off
	// (1 to 2); 1 when zero.
	TOTPSkew int
	// WebAuthn is the relying party of security keys; see webauthn.go.
	WebAuthn WebAuthnConfig

	// Notices, when set, tells people by mail when their password or
	// second factors change, when they sign in from a network and browser
	// not seen before (which needs MFAKey, whose derived key hashes the
	// networks), and when their password expires soon. Notices go through
	// a durable outbox that SendNotices empties; see notices.go.
	Notices AccountNotifier

	// SSO is single sign-on (IAM-5); see sso.go. Without it, configuring a
	// provider or signing in through one is refused.
	SSO SSOConfig
}

// Service authenticates callers and manages service accounts and keys.
type Service struct {
	store   Store
	clock   rempart.Clock
	cfg     Config
	checker *password.Checker
	mfa     *mfaKit
	// networkKey keys the hashes of the networks people sign in from.
	networkKey []byte
	noticeWake chan struct{}
}

// New returns the identity service.
func New(store Store, clock rempart.Clock, cfg Config) *Service {
	if cfg.KeyLifetime <= 0 {
		cfg.KeyLifetime = 90 * 24 * time.Hour
	}
	if cfg.BootstrapLifetime <= 0 {
		cfg.BootstrapLifetime = 24 * time.Hour
	}
	cfg = peopleDefaults(cfg, clock)
	kit := mfaDefaults(&cfg, clock)
	return &Service{store: store, clock: clock, cfg: cfg, mfa: kit, networkKey: networkKey(cfg.MFAKey), noticeWake: make(chan struct{}, 1),
		checker: &password.Checker{Policy: cfg.PasswordPolicy, Hasher: cfg.Hasher, Breach: cfg.Breach}}
}

func (s *Service) deny(ctx context.Context, e rempart.AuditEntry, err error) error {
	e.Outcome = rempart.OutcomeDenied
	if e.Reason == "" {
		e.Reason = rempart.ErrorCode(err)
	}
	if _, aerr := s.store.Audit(ctx, e); aerr != nil {
		return aerr
	}
	return err
}

var errBadCredential = rempart.Errorf(rempart.EUNAUTHORIZED, "The credential is missing, malformed, unknown, expired or revoked.")

// Authenticate turns a presented API key, a person's API access token or
// personal API key,
// into a caller. Every failure is
// audited (AUD-1) and answers the same EUNAUTHORIZED, so that a caller cannot
// tell an unknown key from a revoked one. c carries the request's IP, user
// agent and request ID; its principal is filled in on success.
func (s *Service) Authenticate(ctx context.Context, c rempart.Caller, token string) (rempart.Caller, error) {
	if isSessionToken(token) {
		return s.AuthenticateSession(ctx, c, token, rempart.SessionAPI)
	}
	if isPersonalKeyToken(token) {
		return s.authenticatePersonalKey(ctx, c, token)
	}
	e := c.Entry("", "auth.api_key", "")
	keyID, hash, ok := parseSecret(token)
	if !ok {
		e.Reason = "malformed"
		return c, s.fail(ctx, e)
	}
	e.CredentialID = keyID
	k, err := s.store.APIKey(ctx, keyID)
	if err != nil && rempart.ErrorCode(err) != rempart.ENOTFOUND {
		return c, err
	}
	now := s.clock.Now()
	switch {
	case err != nil:
		e.Reason = "unknown key"
	case !equalHash(k.Hash, hash):
		e.Reason = "wrong secret"
	case k.RevokedAt != nil:
		e.Reason = "revoked"
	case !now.Before(k.ExpiresAt):
		e.Reason = "expired"
	case k.PrincipalDeleted:
		e.Reason = "principal deleted"
	default:
		c.Principal, c.CredentialID = k.Principal, k.ID
		return c, nil
	}
	if err == nil {
		e.PrincipalID, e.TenantID = k.Principal.ID, k.Principal.TenantID
	}
	return c, s.fail(ctx, e)
}

// fail records a failed authentication and returns errBadCredential.
func (s *Service) fail(ctx context.Context, e rempart.AuditEntry) error {
	e.Outcome = rempart.OutcomeDenied
	if _, err := s.store.Audit(ctx, e); err != nil {
		return err
	}
	return errBadCredential
}

// Unauthenticated records a request that presented no credential at all.
func (s *Service) Unauthenticated(ctx context.Context, c rempart.Caller, resource string) error {
	e := c.Entry("", "auth.missing", resource)
	e.Reason = "no credential"
	return s.fail(ctx, e)
}

var accountNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func (s *Service) authorize(ctx context.Context, c rempart.Caller, tenant string, e rempart.AuditEntry) (guard.Scope, error) {
	t, err := s.store.Tenant(ctx, tenant)
	if err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return guard.Scope{}, s.deny(ctx, e, err)
		}
		return guard.Scope{}, err
	}
	scope, err := guard.Authorize(c, t, guard.AccountsManage)
	if err != nil {
		return guard.Scope{}, s.deny(ctx, e, err)
	}
	return scope, nil
}

// CreateServiceAccount adds a service account with a tenant role that is
// not privileged; a privileged one comes only through an approved role
// change (IAM-10).
func (s *Service) CreateServiceAccount(ctx context.Context, c rempart.Caller, tenant string, in rempart.ServiceAccountCreate) (rempart.ServiceAccount, error) {
	sa := rempart.ServiceAccount{ID: rempart.NewID("sa"), TenantID: tenant, Name: in.Name, Role: in.Role, CreatedAt: s.clock.Now()}
	e := c.Entry(tenant, "service_account.create", "tenants/"+tenant+"/service-accounts/"+sa.ID)
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return sa, err
	}
	if !accountNameRE.MatchString(in.Name) {
		return sa, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "A service account name is 1 to 63 characters: lowercase letters, digits, '.', '_' or '-'."))
	}
	if !slices.Contains(rempart.TenantRoles, in.Role) {
		return sa, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "role must be one of %s.", strings.Join(rempart.TenantRoles, ", ")))
	}
	if guard.Privileged(in.Role) {
		// Granting a privileged role is request → approval (IAM-10): the
		// account starts without it, and a role change that another person
		// approves gives it, as for a person.
		return sa, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID,
			"A service account starts with a role that works on its tenant's records only (%s): to give it %s, request the role change once it exists, for another administrator to approve.",
			strings.Join(creatableAccountRoles(), " or "), in.Role))
	}
	e.Reason = "role " + in.Role
	return sa, s.store.CreateServiceAccount(ctx, scope, e, sa)
}

// creatableAccountRoles are the tenant roles a service account may be
// created with: those that are not privileged (guard.Privileged).
func creatableAccountRoles() []string {
	var out []string
	for _, r := range rempart.TenantRoles {
		if !guard.Privileged(r) {
			out = append(out, r)
		}
	}
	return out
}

// ServiceAccounts lists a tenant's service accounts.
func (s *Service) ServiceAccounts(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.ServiceAccount, error) {
	e := c.Entry(tenant, "service_account.list", "tenants/"+tenant+"/service-accounts")
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return nil, err
	}
	out, err := s.store.ServiceAccounts(ctx, scope)
	if err != nil {
		return nil, err
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// DeleteServiceAccount removes a service account; its keys stop working at
// once (IAM-8).
func (s *Service) DeleteServiceAccount(ctx context.Context, c rempart.Caller, tenant, id string) error {
	e := c.Entry(tenant, "service_account.delete", "tenants/"+tenant+"/service-accounts/"+id)
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return err
	}
	return s.store.DeleteServiceAccount(ctx, scope, e, id)
}

// CreateAPIKey issues a key for a service account of the tenant. The secret is
// returned once and stored only as a hash.
func (s *Service) CreateAPIKey(ctx context.Context, c rempart.Caller, tenant, account string, in rempart.APIKeyCreate) (rempart.APIKeyCreated, error) {
	keyID, secret, hash := newSecret()
	e := c.Entry(tenant, "api_key.create", "tenants/"+tenant+"/service-accounts/"+account+"/keys/"+keyID)
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return rempart.APIKeyCreated{}, err
	}
	lifetime := s.cfg.KeyLifetime
	if in.ExpiresInDays != 0 {
		d := time.Duration(in.ExpiresInDays) * 24 * time.Hour
		if in.ExpiresInDays < 0 || d > lifetime {
			return rempart.APIKeyCreated{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "expires_in_days must be between 1 and %d.", int(lifetime/(24*time.Hour))))
		}
		lifetime = d
	}
	sa, err := s.store.ServiceAccount(ctx, scope, account)
	if err != nil {
		return rempart.APIKeyCreated{}, s.deny(ctx, e, err)
	}
	now := s.clock.Now()
	k := KeyRow{ID: keyID, Principal: rempart.Principal{ID: sa.ID, Name: sa.Name, TenantID: sa.TenantID, Role: sa.Role}, Hash: hash, CreatedAt: now, ExpiresAt: now.Add(lifetime)}
	if err := s.store.CreateAPIKey(ctx, scope, e, k); err != nil {
		return rempart.APIKeyCreated{}, err
	}
	return rempart.APIKeyCreated{APIKey: rempart.APIKey{ID: keyID, PrincipalID: sa.ID, TenantID: tenant, CreatedAt: now, ExpiresAt: k.ExpiresAt}, Secret: secret}, nil
}

// APIKeys lists a service account's keys (never their secrets).
func (s *Service) APIKeys(ctx context.Context, c rempart.Caller, tenant, account string) ([]rempart.APIKey, error) {
	e := c.Entry(tenant, "api_key.list", "tenants/"+tenant+"/service-accounts/"+account+"/keys")
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.ServiceAccount(ctx, scope, account); err != nil {
		return nil, s.deny(ctx, e, err)
	}
	out, err := s.store.APIKeys(ctx, scope, account)
	if err != nil {
		return nil, err
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// RevokeAPIKey revokes a key; the next request with it is refused (IAM-8).
func (s *Service) RevokeAPIKey(ctx context.Context, c rempart.Caller, tenant, account, keyID string) error {
	e := c.Entry(tenant, "api_key.revoke", "tenants/"+tenant+"/service-accounts/"+account+"/keys/"+keyID)
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return err
	}
	return s.store.RevokeAPIKey(ctx, scope, e, account, keyID)
}

// Refused records a request about the caller's own account or sign-in that
// was refused before it reached a service (a body too large or not the
// JSON expected), under the action that request would have run, and
// returns err (AUD-1: every refusal is audited).
func (s *Service) Refused(ctx context.Context, c rempart.Caller, action, reason string, err error) error {
	resource := ""
	if c.Principal.ID != "" {
		resource = "users/" + c.Principal.ID
	}
	e := c.Entry(c.Principal.TenantID, action, resource)
	e.Reason = reason
	return s.deny(ctx, e, err)
}
