package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
)

// Security keys (WebAuthn, FIDO2) as second factors (IAM-4), with
// github.com/go-webauthn/webauthn (ADR 0011). A ceremony's state (the
// challenge) travels sealed under the MFA key with the page, for five
// minutes, bound to the user: nothing is stored until a ceremony succeeds.
// A key's signature counter must grow at every use (or stay 0 for keys that
// keep none): one that does not is a possible clone, refused and audited.

// WebAuthnConfig is the relying party of security keys (IAM-4).
type WebAuthnConfig struct {
	// RPID is the relying party ID, the console's host name
	// ("localhost" for the embedded default).
	RPID string
	// Origins are the console's origins, such as "https://localhost:8443".
	Origins []string
}

const ceremonyLifetime = 5 * time.Minute

// waUser is a person as go-webauthn sees them; the user handle is the
// user's ID.
type waUser struct {
	u     rempart.User
	creds []webauthn.Credential
}

func (w waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w waUser) WebAuthnName() string                       { return w.u.Email }
func (w waUser) WebAuthnDisplayName() string                { return w.u.Name }
func (w waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func newRelyingParty(cfg WebAuthnConfig, issuer string) *webauthn.WebAuthn {
	if cfg.RPID == "" || len(cfg.Origins) == 0 {
		return nil
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: cfg.RPID, RPDisplayName: issuer, RPOrigins: cfg.Origins})
	if err != nil {
		panic("identity: WebAuthn settings: " + err.Error()) // validated by serve
	}
	return wa
}

// ValidateWebAuthn checks relying-party settings.
func ValidateWebAuthn(cfg WebAuthnConfig) error {
	_, err := webauthn.New(&webauthn.Config{RPID: cfg.RPID, RPDisplayName: "rempart", RPOrigins: cfg.Origins})
	return err
}

var errNoWebAuthn = rempart.Errorf(rempart.EUNAVAILABLE, "Security keys are not available: no WebAuthn relying party is configured.")

var errBadCeremony = rempart.Errorf(rempart.EUNAUTHORIZED, "The security key's answer was refused: try again.")

type ceremony struct {
	User string `json:"u"`
	Kind string `json:"k"`
	Name string `json:"n,omitempty"`
	// Issued is when the options were made: a key used since refuses the
	// ceremony, so that an answer is good once even from a key that keeps
	// no signature counter.
	Issued  time.Time            `json:"t"`
	Session webauthn.SessionData `json:"s"`
}

var ceremonyAD = keys.AD("rempart/webauthn-ceremony/v1")

func (s *Service) sealCeremony(c ceremony) string {
	c.Issued = s.clock.Now()
	c.Session.Expires = c.Issued.Add(ceremonyLifetime)
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(keys.Seal(s.mfa.aead, b, ceremonyAD))
}

func (s *Service) openCeremony(token, user, kind string) (ceremony, bool) {
	var c ceremony
	if len(token) > 8192 {
		return c, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return c, false
	}
	b, err := keys.Open(s.mfa.aead, raw, ceremonyAD)
	if err != nil || json.Unmarshal(b, &c) != nil || c.User != user || c.Kind != kind || !s.clock.Now().Before(c.Session.Expires) {
		return c, false
	}
	return c, true
}

// waUser is the person as go-webauthn sees them, with their security keys,
// and every confirmed factor of theirs.
func (s *Service) waUser(ctx context.Context, userID string) (waUser, []FactorRow, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return waUser{}, nil, err
	}
	fs, err := s.confirmedFactors(ctx, userID)
	if err != nil {
		return waUser{}, nil, err
	}
	w := waUser{u: u.User}
	for _, f := range fs {
		if f.Kind != rempart.FactorWebAuthn {
			continue
		}
		var cred webauthn.Credential
		if err := json.Unmarshal(f.WebAuthn, &cred); err != nil {
			return waUser{}, nil, err
		}
		cred.Authenticator.SignCount = f.SignCount
		w.creds = append(w.creds, cred)
	}
	return w, fs, nil
}

// BeginWebAuthnRegistration starts registering a security key named name:
// the options for navigator.credentials.create (JSON) and the sealed
// ceremony state for FinishWebAuthnRegistration.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, c rempart.Caller, name string) (options []byte, state string, err error) {
	e, err := s.personal(ctx, c, "mfa.webauthn.start", "/factors")
	if err != nil {
		return nil, "", err
	}
	if s.mfa == nil || s.mfa.wa == nil {
		return nil, "", s.deny(ctx, e, errNoWebAuthn)
	}
	if name, err = validFactorName(name); err != nil {
		return nil, "", s.deny(ctx, e, err)
	}
	w, fs, err := s.waUser(ctx, c.Principal.ID)
	if err != nil {
		return nil, "", err
	}
	if err := s.mayAddFactor(ctx, c, e, fs); err != nil {
		return nil, "", err
	}
	var exclude []protocol.CredentialDescriptor
	for _, cr := range w.creds {
		exclude = append(exclude, cr.Descriptor())
	}
	opts, sd, err := s.mfa.wa.BeginRegistration(w, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, "", err
	}
	if options, err = json.Marshal(opts.Response); err != nil {
		return nil, "", err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return nil, "", err
	}
	return options, s.sealCeremony(ceremony{User: c.Principal.ID, Kind: ceremonyRegister, Name: name, Session: *sd}), nil
}

// FinishWebAuthnRegistration checks the browser's answer (the JSON of the
// PublicKeyCredential) and stores the key as a confirmed factor; at the
// first factor it returns recovery codes. The session counts as having
// proved a second factor now.
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, c rempart.Caller, state string, response []byte) (rempart.FactorConfirmed, error) {
	id := rempart.NewID("mfa")
	e, err := s.personal(ctx, c, "mfa.webauthn.register", factorPath(id))
	if err != nil {
		return rempart.FactorConfirmed{}, err
	}
	if s.mfa == nil || s.mfa.wa == nil {
		return rempart.FactorConfirmed{}, s.deny(ctx, e, errNoWebAuthn)
	}
	if len(response) > maxWebAuthnAnswer {
		e.Reason = "answer too large"
		return rempart.FactorConfirmed{}, s.deny(ctx, e, errBadCeremony)
	}
	cer, ok := s.openCeremony(state, c.Principal.ID, ceremonyRegister)
	if !ok {
		e.Reason = "bad or expired ceremony"
		return rempart.FactorConfirmed{}, s.deny(ctx, e, errBadCeremony)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		e.Reason = "malformed answer"
		return rempart.FactorConfirmed{}, s.deny(ctx, e, errBadCeremony)
	}
	w, all, err := s.waUser(ctx, c.Principal.ID)
	if err != nil {
		return rempart.FactorConfirmed{}, err
	}
	cred, err := s.mfa.wa.CreateCredential(w, cer.Session, parsed)
	if err != nil {
		e.Reason = "attestation refused"
		return rempart.FactorConfirmed{}, s.deny(ctx, e, errBadCeremony)
	}
	blob, err := json.Marshal(cred)
	if err != nil {
		return rempart.FactorConfirmed{}, err
	}
	now := s.clock.Now()
	f := FactorRow{Factor: rempart.Factor{ID: id, Kind: rempart.FactorWebAuthn, Name: cer.Name, CreatedAt: now}, UserID: c.Principal.ID,
		CredentialID: cred.ID, WebAuthn: blob, SignCount: cred.Authenticator.SignCount}
	out := rempart.FactorConfirmed{Factor: f.Factor}
	var hashes [][]byte
	if len(all) == 0 {
		if out.RecoveryCodes, hashes, err = generateRecovery(); err != nil {
			return rempart.FactorConfirmed{}, err
		}
	}
	// Stored unconfirmed, then confirmed with the codes and the session's
	// proof in one transaction of its own.
	pending := e
	pending.Action, pending.Reason = "mfa.webauthn.start", "credential checked"
	if err := s.store.CreateFactor(ctx, pending, f, now); err != nil {
		if rempart.ErrorCode(err) == rempart.ECONFLICT {
			return rempart.FactorConfirmed{}, s.deny(ctx, e, err)
		}
		return rempart.FactorConfirmed{}, err
	}
	session := ""
	if isSessionCredential(c) {
		session = c.CredentialID
	}
	e.Reason = "confirmed"
	if err := s.store.ConfirmFactor(ctx, e, c.Principal.ID, id, 0, hashes, session, now); err != nil {
		return rempart.FactorConfirmed{}, err
	}
	s.notify(ctx, c, c.Principal.ID, "A security key (\""+f.Name+"\") was added to your account as a second factor.")
	return out, nil
}

// Kinds of ceremony: a state sealed for one is refused by the others.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
	ceremonyStepUp   = "step-up"
)

var errNoSecurityKey = rempart.Errorf(rempart.ENOTFOUND, "This account has no security key: use a code from an authenticator app, or a recovery code.")

// beginAssertion makes the options for navigator.credentials.get over the
// user's security keys and the ceremony state of kind, sealed to them, and
// records e; without a relying party, or for a person without a key, e is
// denied.
func (s *Service) beginAssertion(ctx context.Context, e rempart.AuditEntry, userID, kind string) ([]byte, string, error) {
	if s.mfa == nil || s.mfa.wa == nil {
		return nil, "", s.deny(ctx, e, errNoWebAuthn)
	}
	w, _, err := s.waUser(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if len(w.creds) == 0 {
		e.Reason = "no security key"
		return nil, "", s.deny(ctx, e, errNoSecurityKey)
	}
	opts, sd, err := s.mfa.wa.BeginLogin(w)
	if err != nil {
		return nil, "", err
	}
	options, err := json.Marshal(opts.Response)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return nil, "", err
	}
	return options, s.sealCeremony(ceremony{User: userID, Kind: kind, Session: *sd}), nil
}

// maxWebAuthnAnswer bounds a security key's answer (the JSON of a
// PublicKeyCredential): a few hundred bytes, a few KiB with a certificate
// chain.
const maxWebAuthnAnswer = 16 << 10

// checkAssertion checks a security key's answer to a ceremony of kind for
// u, and records the key's new signature counter with an mfa.use entry of
// its own. The ceremony must have been issued after the key's last use, so
// that an answer is good once (a replay is refused even from a key that
// keeps no counter), and the counter must grow, so that a cloned key is
// caught (keys that keep none stay at 0); both are also the store's
// compare-and-set, for concurrent uses. Failures are throttled per user and
// address like codes, and audited as e.
func (s *Service) checkAssertion(ctx context.Context, c rempart.Caller, e rempart.AuditEntry, u UserRow, kind, state string, response []byte) error {
	if s.mfa == nil || s.mfa.wa == nil {
		return s.deny(ctx, e, errNoWebAuthn)
	}
	if d := s.cfg.Throttle.Check(mfaThrottleKey(u.ID), c.IP); !d.Allowed() {
		e.Reason = "second factor throttled"
		return s.deny(ctx, e, d.Err())
	}
	fail := func(reason string) error { return s.factorFailure(ctx, c, e, reason, errBadCeremony) }
	if len(response) > maxWebAuthnAnswer {
		return fail("security key answer too large")
	}
	cer, ok := s.openCeremony(state, u.ID, kind)
	if !ok {
		return fail("bad or expired security key ceremony")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return fail("malformed security key answer")
	}
	w, rows, err := s.waUser(ctx, u.ID)
	if err != nil {
		return err
	}
	cred, err := s.mfa.wa.ValidateLogin(w, cer.Session, parsed)
	if err != nil {
		return fail("security key assertion refused")
	}
	var f *FactorRow
	for i := range rows {
		if string(rows[i].CredentialID) == string(cred.ID) {
			f = &rows[i]
		}
	}
	if f == nil {
		return fail("unknown security key")
	}
	if f.LastUsedAt != nil && !cer.Issued.After(*f.LastUsedAt) {
		return fail("security key ceremony already used: possible replay")
	}
	if cred.Authenticator.CloneWarning {
		return fail("signature counter did not grow: possible cloned key")
	}
	used := e
	used.Action, used.Outcome, used.Resource, used.Reason = "mfa.use", rempart.OutcomeSuccess, "users/"+u.ID+factorPath(f.ID), "webauthn"
	if err := s.store.UseWebAuthn(ctx, used, u.ID, f.ID, cred.Authenticator.SignCount, cer.Issued, s.clock.Now()); err != nil {
		if rempart.ErrorCode(err) == rempart.EUNAUTHORIZED {
			return fail("signature counter did not grow or ceremony already used: possible cloned key or replay")
		}
		return err
	}
	s.cfg.Throttle.Success(mfaThrottleKey(u.ID), c.IP)
	return nil
}

// BeginWebAuthnLogin gives, for a pending sign-in to a session of kind (the
// challenge of StartSignIn, or of SignIn's mfa_required answer), the options
// for navigator.credentials.get over the person's security keys and the
// sealed ceremony state for CompleteSignInWebAuthn. A bad challenge, or a
// person without a key, is denied and audited.
func (s *Service) BeginWebAuthnLogin(ctx context.Context, c rempart.Caller, challenge, kind string) (options []byte, state string, err error) {
	u, e, err := s.pendingSignIn(ctx, c, challenge, kind)
	if err != nil {
		return nil, "", err
	}
	e.Action, e.Reason = "auth.sign_in.webauthn", "security key asked"
	return s.beginAssertion(ctx, e, u.ID, ceremonyLogin)
}

// CompleteSignInWebAuthn is the second step of a sign-in with a security
// key: the browser's answer to BeginWebAuthnLogin's options opens a session
// of kind, the kind the challenge was made for.
func (s *Service) CompleteSignInWebAuthn(ctx context.Context, c rempart.Caller, challenge, state string, response []byte, kind string) (rempart.SessionCreated, error) {
	u, e, err := s.pendingSignIn(ctx, c, challenge, kind)
	if err != nil {
		return rempart.SessionCreated{}, err
	}
	if err := s.checkAssertion(ctx, c, e, u, ceremonyLogin, state, response); err != nil {
		return rempart.SessionCreated{}, err
	}
	return s.openSession(ctx, c, e, u.User, kind, s.clock.Now())
}

// BeginWebAuthnStepUp gives the signed-in caller the options for
// navigator.credentials.get over their security keys and the sealed state
// for VerifyMFAWebAuthn: step-up with a security key.
func (s *Service) BeginWebAuthnStepUp(ctx context.Context, c rempart.Caller) (options []byte, state string, err error) {
	e, err := s.personal(ctx, c, "mfa.verify.start", "/sessions/"+c.CredentialID)
	if err != nil {
		return nil, "", err
	}
	e.Reason = "webauthn"
	return s.beginAssertion(ctx, e, c.Principal.ID, ceremonyStepUp)
}

// HasSecurityKey reports whether a person has a confirmed security key,
// for a page that offers one only then (not audited: it reveals nothing
// the person does not know).
func (s *Service) HasSecurityKey(ctx context.Context, userID string) (bool, error) {
	if s.mfa == nil || s.mfa.wa == nil {
		return false, nil
	}
	fs, err := s.confirmedFactors(ctx, userID)
	for _, f := range fs {
		if f.Kind == rempart.FactorWebAuthn {
			return true, err
		}
	}
	return false, err
}

// VerifyMFAWebAuthn is step-up with a security key: the browser's answer to
// BeginWebAuthnStepUp's options records on the caller's session that it
// proved a second factor now, like VerifyMFA with a code.
func (s *Service) VerifyMFAWebAuthn(ctx context.Context, c rempart.Caller, state string, response []byte) error {
	e, err := s.personal(ctx, c, "mfa.verify", "/sessions/"+c.CredentialID)
	if err != nil {
		return err
	}
	u, err := s.store.User(ctx, c.Principal.ID)
	if err != nil {
		return err
	}
	if err := s.checkAssertion(ctx, c, e, u, ceremonyStepUp, state, response); err != nil {
		return err
	}
	e.Action, e.Reason = "mfa.step_up", "webauthn"
	return s.store.SetSessionMFA(ctx, e, c.Principal.ID, c.CredentialID, s.clock.Now())
}
