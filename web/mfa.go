package web

import (
	"cmp"
	"context"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rempart/rempart"
)

// Second factors (IAM-4): the second step of a sign-in, the account's
// security page (authenticator apps, security keys, recovery codes), the
// enrolment-only session of a person who must enrol first, and step-up,
// the prompt for a code before a sensitive action.

// MFAService is what the console needs for second factors (the identity
// service, through IdentityMFA).
type MFAService interface {
	// CompleteSignIn checks the code for a pending sign-in (Session's
	// Challenge) and opens the session.
	CompleteSignIn(ctx context.Context, challenge, code string, in RequestInfo) (Session, error)
	Factors(ctx context.Context, c rempart.Caller) (rempart.FactorList, error)
	StartTOTP(ctx context.Context, c rempart.Caller, name string) (rempart.TOTPEnrolment, error)
	ConfirmTOTP(ctx context.Context, c rempart.Caller, id, code string) (rempart.FactorConfirmed, error)
	DeleteFactor(ctx context.Context, c rempart.Caller, id string) error
	RegenerateRecoveryCodes(ctx context.Context, c rempart.Caller) (rempart.RecoveryCodes, error)
	VerifyMFA(ctx context.Context, c rempart.Caller, code string) error
	// Security keys: the options (JSON) for the browser and the sealed
	// state of a ceremony, then the browser's answer (JSON).
	BeginWebAuthnRegistration(ctx context.Context, c rempart.Caller, name string) (options []byte, state string, err error)
	FinishWebAuthnRegistration(ctx context.Context, c rempart.Caller, state string, response []byte) (rempart.FactorConfirmed, error)
	// BeginWebAuthnLogin returns no options when the person has no key.
	BeginWebAuthnLogin(ctx context.Context, challenge string, in RequestInfo) (options []byte, state string, err error)
	CompleteSignInWebAuthn(ctx context.Context, challenge, state string, response []byte, in RequestInfo) (Session, error)
	// BeginWebAuthnStepUp returns no options when the person has no key;
	// VerifyMFAWebAuthn checks the browser's answer and records the step-up.
	BeginWebAuthnStepUp(ctx context.Context, c rempart.Caller) (options []byte, state string, err error)
	VerifyMFAWebAuthn(ctx context.Context, c rempart.Caller, state string, response []byte) error
	// MFAPolicy and SetMFAPolicy are a tenant's requirement (tenant admins).
	MFAPolicy(ctx context.Context, c rempart.Caller, tenant string) (rempart.MFAPolicy, error)
	SetMFAPolicy(ctx context.Context, c rempart.Caller, tenant string, required bool) error
}

// maxWebAuthnResponse bounds a security key's answer.
const maxWebAuthnResponse = 16 << 10

// securityPath is the account's security page; an enrolment-only session
// may use it (and sign out) and nothing else.
const securityPath = "/account/security"

func enrolAllowed(path string) bool {
	return path == securityPath || strings.HasPrefix(path, securityPath+"/") || path == "/sign-out"
}

type codePage struct {
	view
	Challenge string
	Next      string
	// WebAuthnOptions and WebAuthnState, when set, offer a security key.
	WebAuthnOptions string
	WebAuthnState   string
}

// showCode asks for the second step of a sign-in.
func (s *server) showCode(w http.ResponseWriter, r *http.Request, status int, alert, challenge, next string) {
	p := codePage{view: s.view(r, nil, "Second factor", ""), Challenge: challenge, Next: next}
	if s.cfg.MFA != nil {
		if opts, state, err := s.cfg.MFA.BeginWebAuthnLogin(r.Context(), challenge, s.info(r)); err == nil && opts != nil {
			p.WebAuthnOptions, p.WebAuthnState = string(opts), state
		}
	}
	p.CSRF = s.csrfToken("sign-in", signInSecret(w, r))
	p.Alert = alert
	s.render(w, r, status, "sign-in-code", p)
}

// signInCode is the second step of a sign-in: the code for the pending
// challenge (not a session: it grants nothing but this check).
func (s *server) signInCode(w http.ResponseWriter, r *http.Request) {
	if !s.signInFormOK(w, r) {
		return
	}
	next := postedNext(r)
	challenge, code := r.PostFormValue("challenge"), strings.TrimSpace(r.PostFormValue("code"))
	if s.cfg.MFA == nil || challenge == "" {
		s.showSignIn(w, r, http.StatusBadRequest, "Start again with your email and password.", "", next)
		return
	}
	if code == "" {
		s.showCode(w, r, http.StatusBadRequest, "Enter the code from your authenticator app, or a recovery code.", challenge, next)
		return
	}
	sess, err := s.cfg.MFA.CompleteSignIn(r.Context(), challenge, code, s.info(r))
	if err != nil {
		if rempart.ErrorMessage(err) == "The sign-in has expired: start again with your email and password." {
			s.showSignIn(w, r, s.status(w, r, err), rempart.ErrorMessage(err), "", next)
			return
		}
		s.showCode(w, r, s.status(w, r, err), rempart.ErrorMessage(err), challenge, next)
		return
	}
	setSession(w, sess)
	clearCookie(w, signInCookie)
	http.Redirect(w, r, cmp.Or(next, "/"), http.StatusSeeOther)
}

type securityPage struct {
	view
	WebAuthnOptions string
	WebAuthnState   string
	Factors         rempart.FactorList
	EnrolOnly       bool
	Enrolment       *rempart.TOTPEnrolment
	QR              template.URL
	RecoveryCodes   []string
	// Policy is the tenant's MFA requirement, shown to its admins.
	Policy *rempart.MFAPolicy
}

func (s *server) mfaService() (MFAService, error) {
	if s.cfg.MFA == nil {
		return nil, errNotFound
	}
	return s.cfg.MFA, nil
}

func (s *server) renderSecurity(w http.ResponseWriter, r *http.Request, v *visit, status int, p securityPage) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	if p.Factors, err = m.Factors(r.Context(), v.caller); err != nil {
		return err
	}
	alert, notice := p.Alert, p.Notice
	p.view = s.view(r, v, "Account security", "security")
	p.Alert = alert
	if notice != "" {
		p.Notice = notice
	}
	p.EnrolOnly = v.caller.EnrolOnly
	if me := v.caller.Principal; me.TenantID != "" && me.Role == rempart.RoleAdmin && !p.EnrolOnly {
		pol, err := m.MFAPolicy(r.Context(), v.caller, me.TenantID)
		if err != nil {
			return err
		}
		p.Policy = &pol
	}
	if p.EnrolOnly && p.Alert == "" {
		p.Alert = "Your account must have a second factor. Enrol one to continue."
	}
	s.render(w, r, status, "security", p)
	return nil
}

// security shows the person's second factors.
func (s *server) security(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.renderSecurity(w, r, v, http.StatusOK, securityPage{})
}

// startTOTP shows the QR code and secret of a new authenticator app, with
// the form to confirm it; shown once, never cached (Cache-Control: no-store
// on every console page).
func (s *server) startTOTP(w http.ResponseWriter, r *http.Request, v *visit) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	en, err := m.StartTOTP(r.Context(), v.caller, r.PostFormValue("name"))
	if err != nil {
		if rempart.ErrorCode(err) == rempart.EINVALID {
			return s.renderSecurity(w, r, v, http.StatusBadRequest, securityPage{view: view{Alert: rempart.ErrorMessage(err)}})
		}
		return err
	}
	// The SVG is rempart's own drawing (a rect and a path, no script):
	// safe as an image, which the CSP's img-src allows as data:.
	qr := template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(en.QRSVG)))
	return s.renderSecurity(w, r, v, http.StatusOK, securityPage{Enrolment: &en, QR: qr})
}

func (s *server) confirmTOTP(w http.ResponseWriter, r *http.Request, v *visit) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	out, err := m.ConfirmTOTP(r.Context(), v.caller, r.PathValue("factor"), strings.TrimSpace(r.PostFormValue("code")))
	if err != nil {
		if c := rempart.ErrorCode(err); c == rempart.EINVALID || c == rempart.EUNAUTHORIZED {
			return s.renderSecurity(w, r, v, s.status(w, r, err), securityPage{view: view{Alert: "The code is not valid: enrol the app again and enter its current code."}})
		}
		return err
	}
	return s.factorAdded(w, r, v, out, "Authenticator app added.")
}

// factorAdded ends an enrolment: the visit is no longer enrol-only, and the
// first factor's recovery codes are shown once; later factors go back to the
// security page.
func (s *server) factorAdded(w http.ResponseWriter, r *http.Request, v *visit, out rempart.FactorConfirmed, notice string) error {
	v.caller.EnrolOnly = false
	if len(out.RecoveryCodes) > 0 {
		return s.renderSecurity(w, r, v, http.StatusOK, securityPage{view: view{Notice: notice}, RecoveryCodes: out.RecoveryCodes})
	}
	http.Redirect(w, r, securityPath+"?done=factor-added", http.StatusSeeOther)
	return nil
}

func (s *server) deleteFactor(w http.ResponseWriter, r *http.Request, v *visit) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	if err := m.DeleteFactor(r.Context(), v.caller, r.PathValue("factor")); err != nil {
		return err
	}
	http.Redirect(w, r, securityPath+"?done=factor-removed", http.StatusSeeOther)
	return nil
}

func (s *server) regenerateCodes(w http.ResponseWriter, r *http.Request, v *visit) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	out, err := m.RegenerateRecoveryCodes(r.Context(), v.caller)
	if err != nil {
		return err
	}
	return s.renderSecurity(w, r, v, http.StatusOK, securityPage{view: view{Notice: "New recovery codes made; the old ones no longer work."}, RecoveryCodes: out.Codes})
}

type stepUpPage struct {
	view
	Action string // the POST to repeat after the check
	Next   string // the page to return to
	// WebAuthnOptions and WebAuthnState offer the person's security keys
	// as well as a code, when they have one.
	WebAuthnOptions, WebAuthnState string
}

// showStepUp renders the step-up page with status, offering a security key
// when the person has one (IAM-4: re-authentication with any of their
// second factors).
func (s *server) showStepUp(w http.ResponseWriter, r *http.Request, v *visit, status int, p stepUpPage) {
	if s.cfg.MFA != nil {
		// Without the key's options the page still takes a code.
		if opts, state, err := s.cfg.MFA.BeginWebAuthnStepUp(r.Context(), v.caller); err == nil {
			p.WebAuthnOptions, p.WebAuthnState = string(opts), state
		} else {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "security key options for step-up", slog.String("request_id", requestID(r)), slog.String("error", err.Error()))
		}
	}
	s.render(w, r, status, "step-up", p)
}

// stepUp asks for a second factor again before a sensitive action (the
// answer EMFAREQUIRED of a recent session); an enrolment-only session goes
// to enrol instead.
func (s *server) stepUp(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	if v.caller.EnrolOnly {
		http.Redirect(w, r, securityPath, http.StatusSeeOther)
		return
	}
	p := stepUpPage{view: s.view(r, v, "Confirm it is you", "")}
	p.Alert = rempart.ErrorMessage(err)
	if r.Method == http.MethodPost {
		p.Action = r.URL.Path
	} else {
		p.Next = r.URL.RequestURI()
	}
	s.showStepUp(w, r, v, http.StatusForbidden, p)
}

// verifyMFA checks the step-up code; then the person repeats the action
// (a POST is never replayed by itself) or goes back to the page.
func (s *server) verifyMFA(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.stepUpWith(w, r, v, func(m MFAService) error {
		return m.VerifyMFA(r.Context(), v.caller, strings.TrimSpace(r.PostFormValue("code")))
	})
}

// verifyMFAWebAuthn is step-up with a security key: the browser's answer
// to the options of the step-up page.
func (s *server) verifyMFAWebAuthn(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.stepUpWith(w, r, v, func(m MFAService) error {
		response := r.PostFormValue("response")
		if response == "" || len(response) > maxWebAuthnResponse {
			return rempart.Errorf(rempart.EINVALID, "The security key did not answer: try again.")
		}
		return m.VerifyMFAWebAuthn(r.Context(), v.caller, r.PostFormValue("state"), []byte(response))
	})
}

// stepUpWith runs a step-up check; on success the person repeats the
// action or goes back to the page, on a refused factor the step-up page
// comes back with the reason.
func (s *server) stepUpWith(w http.ResponseWriter, r *http.Request, v *visit, check func(MFAService) error) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	action, next := r.PostFormValue("action"), r.PostFormValue("next")
	if !localPath(action) {
		action = ""
	}
	if !localPath(next) {
		next = ""
	}
	if err := check(m); err != nil {
		if c := rempart.ErrorCode(err); c == rempart.EINVALID || c == rempart.EUNAUTHORIZED || c == rempart.EUNAVAILABLE {
			p := stepUpPage{view: s.view(r, v, "Confirm it is you", ""), Action: action, Next: next}
			p.Alert = rempart.ErrorMessage(err)
			s.showStepUp(w, r, v, s.status(w, r, err), p)
			return nil
		}
		return err
	}
	if action != "" {
		p := stepUpPage{view: s.view(r, v, "Confirmed", ""), Action: action}
		p.Notice = "Second factor confirmed. Repeat the action to go ahead."
		s.render(w, r, http.StatusOK, "step-up-done", p)
		return nil
	}
	http.Redirect(w, r, cmp.Or(next, "/"), http.StatusSeeOther)
	return nil
}

// signInWebAuthn is the second step of a sign-in with a security key.
func (s *server) signInWebAuthn(w http.ResponseWriter, r *http.Request) {
	if !s.signInFormOK(w, r) {
		return
	}
	next := postedNext(r)
	challenge, response := r.PostFormValue("challenge"), r.PostFormValue("response")
	if s.cfg.MFA == nil || challenge == "" || response == "" || len(response) > maxWebAuthnResponse {
		s.showSignIn(w, r, http.StatusBadRequest, "Start again with your email and password.", "", next)
		return
	}
	sess, err := s.cfg.MFA.CompleteSignInWebAuthn(r.Context(), challenge, r.PostFormValue("state"), []byte(response), s.info(r))
	if err != nil {
		s.showCode(w, r, s.status(w, r, err), rempart.ErrorMessage(err), challenge, next)
		return
	}
	setSession(w, sess)
	clearCookie(w, signInCookie)
	http.Redirect(w, r, cmp.Or(next, "/"), http.StatusSeeOther)
}

// startWebAuthn shows the page that asks the browser for a new security key.
func (s *server) startWebAuthn(w http.ResponseWriter, r *http.Request, v *visit) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	opts, state, err := m.BeginWebAuthnRegistration(r.Context(), v.caller, r.PostFormValue("name"))
	if err != nil {
		if c := rempart.ErrorCode(err); c == rempart.EINVALID || c == rempart.EUNAVAILABLE {
			return s.renderSecurity(w, r, v, s.status(w, r, err), securityPage{view: view{Alert: rempart.ErrorMessage(err)}})
		}
		return err
	}
	return s.renderSecurity(w, r, v, http.StatusOK, securityPage{WebAuthnOptions: string(opts), WebAuthnState: state})
}

// finishWebAuthn stores the security key the browser answered with.
func (s *server) finishWebAuthn(w http.ResponseWriter, r *http.Request, v *visit) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	response := r.PostFormValue("response")
	if response == "" || len(response) > maxWebAuthnResponse {
		return s.renderSecurity(w, r, v, http.StatusBadRequest, securityPage{view: view{Alert: "The security key did not answer: try again."}})
	}
	out, err := m.FinishWebAuthnRegistration(r.Context(), v.caller, r.PostFormValue("state"), []byte(response))
	if err != nil {
		if c := rempart.ErrorCode(err); c == rempart.EUNAUTHORIZED || c == rempart.ECONFLICT {
			return s.renderSecurity(w, r, v, s.status(w, r, err), securityPage{view: view{Alert: rempart.ErrorMessage(err)}})
		}
		return err
	}
	return s.factorAdded(w, r, v, out, "Security key added.")
}

// setTenantPolicy lets a tenant admin require a second factor of the
// tenant's users (audited by the identity service).
func (s *server) setTenantPolicy(w http.ResponseWriter, r *http.Request, v *visit) error {
	m, err := s.mfaService()
	if err != nil {
		return err
	}
	if err := m.SetMFAPolicy(r.Context(), v.caller, v.caller.Principal.TenantID, r.PostFormValue("required") == "true"); err != nil {
		return err
	}
	http.Redirect(w, r, securityPath+"?done=policy-saved", http.StatusSeeOther)
	return nil
}
