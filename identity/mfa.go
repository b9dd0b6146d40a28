package identity

import (
	"context"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/identity/recovery"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/keys"
)

// Multi-factor authentication (IAM-4): TOTP devices, security keys
// (webauthn.go) and recovery codes; the second step of a sign-in; the
// enrolment-only session of staff (and of users of a tenant that requires
// MFA) without a factor; and step-up, the recent proof of a second factor
// that sensitive actions need (guard.StepUp).
//
// TOTP secrets are sealed with AES-256-GCM (keys.Seal) under the MFA key, a
// deployment secret kept in meta wrapped by the root key and re-wrapped by a
// root rotation like the audit signer's; the associated data binds each
// sealed secret to its user and factor, so that a row copied onto another
// user does not open.

const (
	recoveryCodeCount = 10
	// challengeLifetime bounds a sign-in's pending second step.
	challengeLifetime = 5 * time.Minute
	maxFactors        = 10
	maxCode           = 64
)

// mfaKit is what MFA needs besides the store; nil without an MFA key.
type mfaKit struct {
	aead     cipher.AEAD
	verifier *totp.Verifier
	wa       *webauthn.WebAuthn // nil without a relying party
}

// mfaDefaults completes the MFA settings of cfg; the kit is nil (no factor
// can be enrolled, fail closed) without an MFA key.
func mfaDefaults(cfg *Config, clock rempart.Clock) *mfaKit {
	if cfg.StepUpWindow <= 0 {
		cfg.StepUpWindow = 10 * time.Minute
	}
	if cfg.TOTPIssuer == "" {
		cfg.TOTPIssuer = "rempart"
	}
	if cfg.TOTPSkew == 0 {
		cfg.TOTPSkew = totp.DefaultSkew
	}
	if len(cfg.MFAKey) == 0 {
		return nil
	}
	aead, err := keys.NewAEAD(cfg.MFAKey)
	if err != nil {
		panic("identity: MFA key: " + err.Error()) // a 32-byte key made by serve
	}
	v, err := totp.NewVerifier(clock, cfg.TOTPSkew)
	if err != nil {
		panic(err) // settings are validated before
	}
	return &mfaKit{aead: aead, verifier: v, wa: newRelyingParty(cfg.WebAuthn, cfg.TOTPIssuer)}
}

var errNoMFAKey = rempart.Errorf(rempart.EUNAVAILABLE, "Second factors are not available: no MFA key is configured.")

func totpAD(userID, factorID string) []byte {
	return keys.AD("rempart/totp-secret/v1", userID, factorID)
}

func factorPath(id string) string { return "/factors/" + id }

// Factors lists the caller's confirmed second factors.
func (s *Service) Factors(ctx context.Context, c rempart.Caller) (rempart.FactorList, error) {
	e, err := s.personal(ctx, c, "mfa.factor.list", "/factors")
	if err != nil {
		return rempart.FactorList{}, err
	}
	fs, err := s.confirmedFactors(ctx, c.Principal.ID)
	if err != nil {
		return rempart.FactorList{}, err
	}
	codes, err := s.store.RecoveryCodes(ctx, c.Principal.ID)
	if err != nil {
		return rempart.FactorList{}, err
	}
	out := rempart.FactorList{Factors: []rempart.Factor{}, RecoveryCodesLeft: len(codes)}
	for _, f := range fs {
		out.Factors = append(out.Factors, f.Factor)
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

func (s *Service) confirmedFactors(ctx context.Context, userID string) ([]FactorRow, error) {
	all, err := s.store.Factors(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, f := range all {
		if f.Confirmed {
			out = append(out, f)
		}
	}
	return out, nil
}

func validFactorName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", rempart.Errorf(rempart.EINVALID, "name is required: a name for the device, such as \"phone\".")
	}
	if len(name) > 64 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", rempart.Errorf(rempart.EINVALID, "name is at most 64 printable characters.")
	}
	return name, nil
}

// mayAddFactor refuses a new second factor beyond maxFactors and, for a
// person who already has one (fs, their confirmed factors), without a second
// factor proven recently: otherwise a stolen or stale session could enrol a
// factor of its own and, with it, pass every step-up (IAM-4). A first factor
// needs none, as there is nothing to prove yet.
func (s *Service) mayAddFactor(ctx context.Context, c rempart.Caller, e rempart.AuditEntry, fs []FactorRow) error {
	if len(fs) >= maxFactors {
		return s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "You have %d second factors, the most allowed; remove one first.", maxFactors))
	}
	if len(fs) > 0 {
		if err := guard.StepUp(c); err != nil {
			return s.deny(ctx, e, err)
		}
	}
	return nil
}

// StartTOTP begins enrolling an authenticator app: a new secret, its
// otpauth:// URI and QR code, shown once. The device counts only once
// ConfirmTOTP accepted a first code; an unconfirmed one is replaced by the
// next start.
func (s *Service) StartTOTP(ctx context.Context, c rempart.Caller, in rempart.TOTPStart) (rempart.TOTPEnrolment, error) {
	id := rempart.NewID("mfa")
	e, err := s.personal(ctx, c, "mfa.totp.start", factorPath(id))
	if err != nil {
		return rempart.TOTPEnrolment{}, err
	}
	if s.mfa == nil {
		return rempart.TOTPEnrolment{}, s.deny(ctx, e, errNoMFAKey)
	}
	name, err := validFactorName(in.Name)
	if err != nil {
		return rempart.TOTPEnrolment{}, s.deny(ctx, e, err)
	}
	fs, err := s.confirmedFactors(ctx, c.Principal.ID)
	if err != nil {
		return rempart.TOTPEnrolment{}, err
	}
	if err := s.mayAddFactor(ctx, c, e, fs); err != nil {
		return rempart.TOTPEnrolment{}, err
	}
	u, err := s.store.User(ctx, c.Principal.ID)
	if err != nil {
		return rempart.TOTPEnrolment{}, err
	}
	secret, err := totp.NewSecret()
	if err != nil {
		return rempart.TOTPEnrolment{}, err
	}
	uri, err := totp.KeyURI(s.cfg.TOTPIssuer, u.Email, secret)
	if err != nil {
		return rempart.TOTPEnrolment{}, err
	}
	qr, err := totp.EncodeQR(uri)
	if err != nil {
		return rempart.TOTPEnrolment{}, err
	}
	now := s.clock.Now()
	f := FactorRow{Factor: rempart.Factor{ID: id, Kind: rempart.FactorTOTP, Name: name, CreatedAt: now}, UserID: c.Principal.ID,
		Secret: keys.Seal(s.mfa.aead, secret, totpAD(c.Principal.ID, id))}
	e.Reason = "unconfirmed"
	if err := s.store.CreateFactor(ctx, e, f, now); err != nil {
		return rempart.TOTPEnrolment{}, err
	}
	return rempart.TOTPEnrolment{Factor: f.Factor, Secret: totp.EncodeSecret(secret), URI: uri, QRSVG: string(qr.SVG())}, nil
}

// ConfirmTOTP completes an enrolment with a first valid code. At the first
// factor it returns ten recovery codes, shown once and stored hashed. The
// session it is called from counts as having proved a second factor now,
// which ends an enrolment-only restriction.
func (s *Service) ConfirmTOTP(ctx context.Context, c rempart.Caller, id string, in rempart.MFACode) (rempart.FactorConfirmed, error) {
	e, err := s.personal(ctx, c, "mfa.totp.confirm", factorPath(id))
	if err != nil {
		return rempart.FactorConfirmed{}, err
	}
	if s.mfa == nil {
		return rempart.FactorConfirmed{}, s.deny(ctx, e, errNoMFAKey)
	}
	if d := s.cfg.Throttle.Check(mfaThrottleKey(c.Principal.ID), c.IP); !d.Allowed() {
		e.Reason = "throttled"
		return rempart.FactorConfirmed{}, s.deny(ctx, e, d.Err())
	}
	all, err := s.store.Factors(ctx, c.Principal.ID)
	if err != nil {
		return rempart.FactorConfirmed{}, err
	}
	var f *FactorRow
	confirmed := 0
	for i := range all {
		if all[i].Confirmed {
			confirmed++
		} else if all[i].ID == id && all[i].Kind == rempart.FactorTOTP {
			f = &all[i]
		}
	}
	if f == nil {
		return rempart.FactorConfirmed{}, s.deny(ctx, e, rempart.Errorf(rempart.ENOTFOUND, "No enrolment in progress with this ID."))
	}
	secret, err := keys.Open(s.mfa.aead, f.Secret, totpAD(c.Principal.ID, f.ID))
	if err != nil {
		return rempart.FactorConfirmed{}, err
	}
	step, err := s.mfa.verifier.Verify(secret, in.Code, f.LastStep)
	if err != nil {
		return rempart.FactorConfirmed{}, s.mfaFailure(ctx, c, e, err)
	}
	s.cfg.Throttle.Success(mfaThrottleKey(c.Principal.ID), c.IP)
	out := rempart.FactorConfirmed{Factor: f.Factor}
	var hashes [][]byte
	if confirmed == 0 {
		if out.RecoveryCodes, hashes, err = generateRecovery(); err != nil {
			return rempart.FactorConfirmed{}, err
		}
	}
	session := ""
	if isSessionCredential(c) {
		session = c.CredentialID
	}
	e.Reason = "confirmed"
	if err := s.store.ConfirmFactor(ctx, e, c.Principal.ID, f.ID, step, hashes, session, s.clock.Now()); err != nil {
		return rempart.FactorConfirmed{}, err
	}
	s.notify(ctx, c, c.Principal.ID, "An authenticator app (\""+f.Name+"\") was added to your account as a second factor.")
	return out, nil
}

// DeleteFactor removes one of the caller's factors (IAM-8); it needs a
// recent second factor (step-up). Staff, and users of a tenant that
// requires MFA, cannot remove their last one.
func (s *Service) DeleteFactor(ctx context.Context, c rempart.Caller, id string) error {
	e, err := s.personal(ctx, c, "mfa.factor.delete", factorPath(id))
	if err != nil {
		return err
	}
	if err := guard.StepUp(c); err != nil {
		return s.deny(ctx, e, err)
	}
	fs, err := s.confirmedFactors(ctx, c.Principal.ID)
	if err != nil {
		return err
	}
	if len(fs) == 1 && fs[0].ID == id {
		u, err := s.store.User(ctx, c.Principal.ID)
		if err != nil {
			return err
		}
		if must, err := s.mustHaveMFA(ctx, u.User); err != nil {
			return err
		} else if must {
			return s.deny(ctx, e, rempart.Errorf(rempart.EFORBIDDEN, "A second factor is mandatory for your account: enrol another one before removing this one."))
		}
	}
	if err := s.store.DeleteFactor(ctx, e, c.Principal.ID, id); err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			// Not one of the caller's: someone else's factor is a
			// refusal to record (AUD-1), not a silent 404.
			return s.deny(ctx, e, err)
		}
		return err
	}
	s.notify(ctx, c, c.Principal.ID, "A second factor was removed from your account.")
	return nil
}

// RegenerateRecoveryCodes replaces the caller's recovery codes with ten new
// ones, shown once; it needs a recent second factor.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, c rempart.Caller) (rempart.RecoveryCodes, error) {
	e, err := s.personal(ctx, c, "mfa.recovery.regenerate", "/recovery-codes")
	if err != nil {
		return rempart.RecoveryCodes{}, err
	}
	if err := guard.StepUp(c); err != nil {
		return rempart.RecoveryCodes{}, s.deny(ctx, e, err)
	}
	fs, err := s.confirmedFactors(ctx, c.Principal.ID)
	if err != nil {
		return rempart.RecoveryCodes{}, err
	}
	if len(fs) == 0 {
		return rempart.RecoveryCodes{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "Recovery codes back up a second factor: enrol one first."))
	}
	codes, hashes, err := recovery.Generate(recoveryCodeCount)
	if err != nil {
		return rempart.RecoveryCodes{}, err
	}
	if err := s.store.SetRecoveryCodes(ctx, e, c.Principal.ID, hashes); err != nil {
		return rempart.RecoveryCodes{}, err
	}
	s.notify(ctx, c, c.Principal.ID, "New recovery codes were made for your account; the old ones no longer work.")
	return rempart.RecoveryCodes{Codes: codes}, nil
}

// VerifyMFA is step-up: the caller's session proves a second factor again
// (a TOTP code or a recovery code), which sensitive actions need within the
// step-up window.
func (s *Service) VerifyMFA(ctx context.Context, c rempart.Caller, in rempart.MFACode) error {
	e, err := s.personal(ctx, c, "mfa.verify", "/sessions/"+c.CredentialID)
	if err != nil {
		return err
	}
	u, err := s.store.User(ctx, c.Principal.ID)
	if err != nil {
		return err
	}
	if err := s.checkSecondFactor(ctx, c, &e, u, in.Code); err != nil {
		return err
	}
	e.Action = "mfa.step_up"
	return s.store.SetSessionMFA(ctx, e, c.Principal.ID, c.CredentialID, s.clock.Now())
}

// mustHaveMFA reports whether u must have a second factor: every staff
// member, and the users of a tenant that requires it (IAM-4).
func (s *Service) mustHaveMFA(ctx context.Context, u rempart.User) (bool, error) {
	if u.TenantID == "" {
		return true, nil
	}
	return s.store.MFARequired(ctx, u.TenantID)
}

func mfaThrottleKey(userID string) string { return "mfa:" + userID }

// checkSecondFactor checks a TOTP code or a recovery code of u, and records
// its use (the TOTP step, or the spent recovery code) with an audit entry of
// its own: a code is never accepted twice, even if what follows fails.
// Failures are throttled per user and address and audited.
func (s *Service) checkSecondFactor(ctx context.Context, c rempart.Caller, e *rempart.AuditEntry, u UserRow, code string) error {
	e.PrincipalID, e.TenantID = u.ID, u.TenantID
	if s.mfa == nil {
		return s.deny(ctx, *e, errNoMFAKey)
	}
	if d := s.cfg.Throttle.Check(mfaThrottleKey(u.ID), c.IP); !d.Allowed() {
		e.Reason = "second factor throttled"
		return s.deny(ctx, *e, d.Err())
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > maxCode {
		return s.mfaFailure(ctx, c, *e, rempart.Errorf(rempart.EINVALID, "code must be a 6-digit code from your authenticator app or a recovery code."))
	}
	fs, err := s.confirmedFactors(ctx, u.ID)
	if err != nil {
		return err
	}
	used := *e
	used.Action, used.Outcome = "mfa.use", rempart.OutcomeSuccess
	if digits := strings.ReplaceAll(code, " ", ""); len(digits) == totp.Digits {
		var last error = totp.ErrWrongCode
		for _, f := range fs {
			if f.Kind != rempart.FactorTOTP {
				continue
			}
			secret, err := keys.Open(s.mfa.aead, f.Secret, totpAD(u.ID, f.ID))
			if err != nil {
				return err
			}
			step, err := s.mfa.verifier.Verify(secret, digits, f.LastStep)
			if err != nil {
				if errors.Is(err, totp.ErrReplayed) || rempart.ErrorCode(err) == rempart.EINVALID {
					last = err
				}
				continue
			}
			used.Resource, used.Reason = "users/"+u.ID+factorPath(f.ID), "totp"
			if err := s.store.UseTOTP(ctx, used, u.ID, f.ID, step, s.clock.Now()); err != nil {
				if rempart.ErrorCode(err) == rempart.EUNAUTHORIZED {
					return s.mfaFailure(ctx, c, *e, totp.ErrReplayed) // a concurrent use of the same code
				}
				return err
			}
			s.cfg.Throttle.Success(mfaThrottleKey(u.ID), c.IP)
			return nil
		}
		return s.mfaFailure(ctx, c, *e, last)
	}
	rows, err := s.store.RecoveryCodes(ctx, u.ID)
	if err != nil {
		return err
	}
	hashes := make([][]byte, len(rows))
	for i, r := range rows {
		hashes[i] = r.Hash
	}
	i, ok := recovery.Match(hashes, code)
	if !ok {
		return s.mfaFailure(ctx, c, *e, errBadCode)
	}
	used.Resource, used.Reason = "users/"+u.ID+"/recovery-codes", "recovery code"
	if err := s.store.UseRecoveryCode(ctx, used, u.ID, rows[i].ID); err != nil {
		if rempart.ErrorCode(err) == rempart.EUNAUTHORIZED {
			return s.mfaFailure(ctx, c, *e, errBadCode)
		}
		return err
	}
	s.cfg.Throttle.Success(mfaThrottleKey(u.ID), c.IP)
	return nil
}

var errBadCode = rempart.Errorf(rempart.EUNAUTHORIZED, "The code is not valid.")

// mfaFailure audits a refused second factor (AUD-3), counts it towards the
// throttle, and returns err.
func (s *Service) mfaFailure(ctx context.Context, c rempart.Caller, e rempart.AuditEntry, err error) error {
	switch {
	case errors.Is(err, totp.ErrReplayed):
		return s.factorFailure(ctx, c, e, "code replayed", err)
	case errors.Is(err, totp.ErrWrongCode), errors.Is(err, errBadCode):
		return s.factorFailure(ctx, c, e, "wrong code", err)
	}
	return s.factorFailure(ctx, c, e, "malformed code", err)
}

// factorFailure audits a refused second factor of any kind with reason
// (prefixed "second factor: " at a sign-in), counts it towards the
// throttle, records a lockout as a security event of its own, and returns
// err.
func (s *Service) factorFailure(ctx context.Context, c rempart.Caller, e rempart.AuditEntry, reason string, err error) error {
	e.Reason = reason
	if !strings.HasPrefix(e.Action, "mfa.") {
		e.Reason = "second factor: " + reason
	}
	for _, ev := range s.cfg.Throttle.Failure(mfaThrottleKey(e.PrincipalID), c.IP).Events {
		ee := e
		ee.Action, ee.Outcome = string(ev), rempart.OutcomeDenied
		if _, err := s.store.Audit(ctx, ee); err != nil {
			return err
		}
	}
	return s.deny(ctx, e, err)
}

// A challenge is the pending second step of a sign-in, in the console or
// over the API: the password (or single sign-on) was right and a second
// factor is due. It is not a session: it is a sealed, five-minute statement
// "user U passed the first step, for a session of kind K", good only for the
// second step of that kind (CompleteSignIn, BeginWebAuthnLogin,
// CompleteSignInWebAuthn), which still needs a valid factor. It also carries
// the kinds of factor the person had, for the client to offer.
type challenge struct {
	User    string   `json:"u"`
	Kind    string   `json:"k"`
	Factors []string `json:"f,omitempty"`
	Expires int64    `json:"x"`
}

var challengeAD = keys.AD("rempart/sign-in-challenge/v1")

var errBadChallenge = rempart.Errorf(rempart.EUNAUTHORIZED, "The sign-in has expired: start again with your email and password.")

// maxChallenge bounds a presented challenge before it is decoded.
const maxChallenge = 1024

// newChallenge seals the pending second step of u's sign-in to a session of
// kind, with the kinds of the factors fs.
func (s *Service) newChallenge(userID, kind string, fs []FactorRow) rempart.MFAChallenge {
	exp := s.clock.Now().Add(challengeLifetime)
	ch := challenge{User: userID, Kind: kind, Expires: exp.Unix()}
	for _, f := range fs {
		if !slices.Contains(ch.Factors, f.Kind) {
			ch.Factors = append(ch.Factors, f.Kind)
		}
	}
	slices.Sort(ch.Factors)
	b, _ := json.Marshal(ch)
	return rempart.MFAChallenge{Challenge: base64.RawURLEncoding.EncodeToString(keys.Seal(s.mfa.aead, b, challengeAD)),
		ExpiresAt: time.Unix(ch.Expires, 0).UTC(), Factors: ch.Factors}
}

func (s *Service) openChallenge(token string) (challenge, bool) {
	var ch challenge
	if s.mfa == nil || len(token) > maxChallenge {
		return ch, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return ch, false
	}
	b, err := keys.Open(s.mfa.aead, raw, challengeAD)
	if err != nil {
		return ch, false
	}
	if json.Unmarshal(b, &ch) != nil || ch.User == "" || s.clock.Now().Unix() >= ch.Expires {
		return challenge{}, false
	}
	return ch, true
}

// ChallengeFactors returns the kinds of factor a pending sign-in may
// continue with, as they were at the first step; none for a bad or expired
// challenge. It checks nothing and records nothing: it tells a page what
// to offer.
func (s *Service) ChallengeFactors(token string) []string {
	ch, _ := s.openChallenge(token)
	return ch.Factors
}

// StartSignIn is the console's sign-in: it checks the email and password and
// either opens a session (no second factor enrolled) or returns a pending
// challenge for CompleteSignIn.
func (s *Service) StartSignIn(ctx context.Context, c rempart.Caller, in rempart.SignIn) (rempart.SessionCreated, string, error) {
	in.Code = ""
	u, e, err := s.signInPassword(ctx, c, in)
	if err != nil {
		return rempart.SessionCreated{}, "", err
	}
	return s.consoleSession(ctx, c, e, u.User, "auth.sign_in.password")
}

// consoleSession is where a console sign-in goes once the person is known,
// by password or single sign-on: a session if they have no second factor,
// else a pending challenge for CompleteSignIn, the step recorded as action
// (IAM-4).
func (s *Service) consoleSession(ctx context.Context, c rempart.Caller, e rempart.AuditEntry, u rempart.User, action string) (rempart.SessionCreated, string, error) {
	fs, err := s.confirmedFactors(ctx, u.ID)
	if err != nil {
		return rempart.SessionCreated{}, "", err
	}
	if len(fs) > 0 {
		if s.mfa == nil {
			return rempart.SessionCreated{}, "", s.deny(ctx, e, errNoMFAKey)
		}
		e.Action, e.Reason = action, "second factor due"
		if _, err := s.store.Audit(ctx, e); err != nil {
			return rempart.SessionCreated{}, "", err
		}
		return rempart.SessionCreated{}, s.newChallenge(u.ID, rempart.SessionConsole, fs).Challenge, nil
	}
	sc, err := s.openSession(ctx, c, e, u, rempart.SessionConsole)
	return sc, "", err
}

// CompleteSignIn is the second step of a sign-in with a code: a valid TOTP
// or recovery code for the user a challenge names opens a session of kind,
// the kind the challenge was made for.
func (s *Service) CompleteSignIn(ctx context.Context, c rempart.Caller, token, code, kind string) (rempart.SessionCreated, error) {
	u, e, err := s.pendingSignIn(ctx, c, token, kind)
	if err != nil {
		return rempart.SessionCreated{}, err
	}
	if err := s.checkSecondFactor(ctx, c, &e, u, code); err != nil {
		return rempart.SessionCreated{}, err
	}
	return s.openSession(ctx, c, e, u.User, kind, s.clock.Now())
}

// pendingSignIn is the active user a sign-in challenge for a session of
// kind names, with the auth.sign_in entry of the second step; a bad or
// expired challenge, one made for another kind of session, or a user gone
// or suspended since the first step, is denied and audited.
func (s *Service) pendingSignIn(ctx context.Context, c rempart.Caller, token, kind string) (UserRow, rempart.AuditEntry, error) {
	e := c.Entry("", "auth.sign_in", "")
	ch, ok := s.openChallenge(token)
	if !ok {
		e.Reason = "bad or expired sign-in challenge"
		return UserRow{}, e, s.deny(ctx, e, errBadChallenge)
	}
	if ch.Kind != kind {
		e.PrincipalID, e.Reason = ch.User, "sign-in challenge of another kind of session ("+ch.Kind+", not "+kind+")"
		return UserRow{}, e, s.deny(ctx, e, errBadChallenge)
	}
	u, err := s.store.User(ctx, ch.User)
	if err != nil || u.Status != rempart.UserActive {
		e.PrincipalID, e.Reason = ch.User, "user gone or not active"
		return UserRow{}, e, s.deny(ctx, e, errBadChallenge)
	}
	e.PrincipalID, e.TenantID, e.Resource = u.ID, u.TenantID, "users/"+u.ID
	return u, e, nil
}

// MFAPolicy returns whether a tenant requires MFA of its users.
func (s *Service) MFAPolicy(ctx context.Context, c rempart.Caller, tenant string) (rempart.MFAPolicy, error) {
	e := c.Entry(tenant, "tenant.mfa_policy.read", "tenants/"+tenant+"/mfa-policy")
	if _, err := s.authorize(ctx, c, tenant, e); err != nil {
		return rempart.MFAPolicy{}, err
	}
	req, err := s.store.MFARequired(ctx, tenant)
	if err != nil {
		return rempart.MFAPolicy{}, err
	}
	_, err = s.store.Audit(ctx, e)
	return rempart.MFAPolicy{Required: req}, err
}

// SetMFAPolicy sets whether a tenant requires MFA of its users; from then
// on, a user of the tenant without a factor signs in to an enrolment-only
// session. Sessions already open keep running until they end.
func (s *Service) SetMFAPolicy(ctx context.Context, c rempart.Caller, tenant string, p rempart.MFAPolicy) error {
	e := c.Entry(tenant, "tenant.mfa_policy.update", "tenants/"+tenant+"/mfa-policy")
	if _, err := s.authorize(ctx, c, tenant, e); err != nil {
		return err
	}
	e.Reason = "required=false"
	if p.Required {
		e.Reason = "required=true"
	}
	return s.store.SetMFARequired(ctx, e, tenant, p.Required)
}

func generateRecovery() ([]string, [][]byte, error) { return recovery.Generate(recoveryCodeCount) }
