package rempart

import (
	"encoding/json"
	"time"
)

// EMFAREQUIRED refuses an action that needs a second factor proven recently
// (IAM-4 step-up), or a session that may only enrol one; 403. Clients turn it
// into a prompt for a code (POST /api/v1/mfa/verify) or the enrolment page.
const EMFAREQUIRED = "mfa_required"

// Kinds of second factor (IAM-4).
const (
	FactorTOTP     = "totp"
	FactorWebAuthn = "webauthn"
)

// Factor is one of a person's second factors: an authenticator app (TOTP)
// or a security key (WebAuthn). Its secret never leaves the server.
type Factor struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// FactorList is a person's confirmed second factors and how many unused
// recovery codes remain.
type FactorList struct {
	Factors           []Factor `json:"factors"`
	RecoveryCodesLeft int      `json:"recovery_codes_left"`
}

// TOTPStart is the body of POST /mfa/totp: the name shown for the device.
type TOTPStart struct {
	Name string `json:"name"`
}

// TOTPEnrolment is a TOTP device being enrolled: the secret (base32, for
// manual entry), the otpauth:// URI and its QR code as an SVG document.
// Shown once; the device counts only after a first valid code.
type TOTPEnrolment struct {
	Factor
	Secret string `json:"secret"`
	URI    string `json:"otpauth_uri"`
	QRSVG  string `json:"qr_svg"`
}

// MFACode is a second-factor code: a TOTP code or a recovery code.
type MFACode struct {
	Code string `json:"code"`
}

// FactorConfirmed is the answer to a confirmed enrolment: the factor and, at
// the first enrolment, the recovery codes, shown once.
type FactorConfirmed struct {
	Factor        Factor   `json:"factor"`
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

// RecoveryCodes are new recovery codes, shown once.
type RecoveryCodes struct {
	Codes []string `json:"recovery_codes"`
}

// MFAPolicy is a tenant's MFA setting: when Required, its users must enrol
// a second factor before they can do anything else (IAM-4).
type MFAPolicy struct {
	Required bool `json:"required"`
}

// MFAChallenge is the pending second step of a sign-in whose password was
// right (IAM-4), carried by its 403 mfa_required answer: a sealed,
// short-lived statement that the password was checked, good only for the
// second step (POST /sessions/code, or /sessions/webauthn/options then
// /sessions/webauthn), and the kinds of factor the person has. A recovery
// code always works in place of a factor.
type MFAChallenge struct {
	Challenge string    `json:"challenge"`
	ExpiresAt time.Time `json:"challenge_expires_at"`
	Factors   []string  `json:"factors"`
}

// SignInChallenge is the body of POST /sessions/webauthn/options.
type SignInChallenge struct {
	Challenge string `json:"challenge"`
}

// SignInCode is the body of POST /sessions/code: a TOTP code or a recovery
// code for a pending sign-in.
type SignInCode struct {
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
}

// WebAuthnStart is the body of POST /me/factors/webauthn: the name shown
// for the security key.
type WebAuthnStart struct {
	Name string `json:"name"`
}

// WebAuthnOptions starts a security-key ceremony: Options is the JSON of
// PublicKeyCredentialCreationOptions (registration) or
// PublicKeyCredentialRequestOptions (sign-in, step-up), for
// PublicKeyCredential.parseCreationOptionsFromJSON or
// parseRequestOptionsFromJSON; State is the sealed ceremony state, opaque,
// to send back with the answer within five minutes.
type WebAuthnOptions struct {
	Options json.RawMessage `json:"options"`
	State   string          `json:"state"`
}

// WebAuthnAnswer is the browser's answer to a ceremony: the State of its
// WebAuthnOptions and the PublicKeyCredential serialised by its toJSON()
// (WebAuthn Level 3).
type WebAuthnAnswer struct {
	State      string          `json:"state"`
	Credential json.RawMessage `json:"credential"`
}

// SignInWebAuthn is the body of POST /sessions/webauthn: a security key's
// answer for a pending sign-in.
type SignInWebAuthn struct {
	Challenge string `json:"challenge"`
	WebAuthnAnswer
}
