package identity

import (
	"context"
	"time"

	"github.com/rempart/rempart"
)

// FactorRow is a second factor as stored (IAM-4). A TOTP factor's Secret is
// sealed under the deployment's MFA key (see mfa.go), never in clear.
type FactorRow struct {
	rempart.Factor
	UserID string
	// Secret is the sealed TOTP secret.
	Secret []byte
	// LastStep is the last TOTP time step accepted, so that no code is
	// accepted twice.
	LastStep int64
	// Confirmed is set once a first valid code proved the device.
	Confirmed bool
	// CredentialID, WebAuthn (the credential as go-webauthn records it:
	// public key, flags, AAGUID) and SignCount are a security key's.
	CredentialID []byte
	WebAuthn     []byte
	SignCount    uint32
}

// RecoveryRow is one unused recovery code, as its salted hash.
type RecoveryRow struct {
	ID   string
	Hash []byte
}

// MFAStore is what identity needs from storage for second factors (IAM-4).
type MFAStore interface {
	// Factors lists a user's factors, confirmed or not, oldest first.
	Factors(ctx context.Context, userID string) ([]FactorRow, error)
	// CreateFactor stores a new factor and drops the user's unconfirmed
	// factors of the same kind older than before.
	CreateFactor(ctx context.Context, e rempart.AuditEntry, f FactorRow, before time.Time) error
	// ConfirmFactor marks an unconfirmed factor of the user confirmed with
	// its first accepted step, stores recovery code hashes when codes is not
	// nil (replacing any), and records on session (when not "") that it
	// proved a second factor at, ending its enrolment-only restriction; one
	// transaction. ENOTFOUND when the user has no such unconfirmed factor.
	ConfirmFactor(ctx context.Context, e rempart.AuditEntry, userID, id string, step int64, codes [][]byte, session string, at time.Time) error
	// UseTOTP records that a code of step was accepted at for the factor,
	// only if step is after its last step (compare-and-set): EUNAUTHORIZED
	// when it is not (a replay, perhaps a concurrent one).
	UseTOTP(ctx context.Context, e rempart.AuditEntry, userID, id string, step int64, at time.Time) error
	// DeleteFactor removes a factor of the user; with its last confirmed
	// factor go its recovery codes (IAM-8). ENOTFOUND when there is none.
	DeleteFactor(ctx context.Context, e rempart.AuditEntry, userID, id string) error
	// RecoveryCodes lists a user's unused recovery codes.
	RecoveryCodes(ctx context.Context, userID string) ([]RecoveryRow, error)
	// UseRecoveryCode deletes one; EUNAUTHORIZED when it was already used.
	UseRecoveryCode(ctx context.Context, e rempart.AuditEntry, userID, id string) error
	// SetRecoveryCodes replaces a user's recovery codes.
	SetRecoveryCodes(ctx context.Context, e rempart.AuditEntry, userID string, hashes [][]byte) error
	// SetSessionMFA records that a session of the user proved a second
	// factor at, and ends its enrolment-only restriction.
	SetSessionMFA(ctx context.Context, e rempart.AuditEntry, userID, id string, at time.Time) error
	// UseWebAuthn records a security key's new signature counter, only
	// forward (or 0 for keys without one), and only for a ceremony issued
	// after the key's last use (compare-and-set): EUNAUTHORIZED otherwise
	// (a clone, a replay, perhaps a concurrent one).
	UseWebAuthn(ctx context.Context, e rempart.AuditEntry, userID, id string, count uint32, issued, at time.Time) error
	// MFARequired reports whether a tenant requires MFA of its users.
	MFARequired(ctx context.Context, tenant string) (bool, error)
	// SetMFARequired sets a tenant's MFA requirement.
	SetMFARequired(ctx context.Context, e rempart.AuditEntry, tenant string, required bool) error
}
