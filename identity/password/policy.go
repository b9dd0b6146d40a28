package password

import (
	"strings"
	"time"

	"github.com/rempart/rempart"
)

// Floors no deployment or tenant setting may go below (IAM-3).
const (
	// FloorMinLength is the shortest allowed password, in characters.
	FloorMinLength = 10
	// FloorHistory is the least number of previous passwords refused.
	FloorHistory = 5
	// FloorMaxAge is the shortest expiry period when expiry is on: forced
	// changes more often than monthly push users to predictable patterns
	// (NIST SP 800-63B §5.1.1.2 advises against periodic changes at all).
	FloorMaxAge = 30 * 24 * time.Hour
	// CeilingMaxLength bounds MaxLength, since every check hashes the
	// candidate once per remembered password.
	CeilingMaxLength = MaxHashBytes
)

// Policy is the password policy of a deployment or of one tenant.
type Policy struct {
	MinLength int           // characters; at least FloorMinLength
	MaxLength int           // bytes; MinLength..CeilingMaxLength
	MaxAge    time.Duration // 0: never expires; otherwise at least FloorMaxAge
	History   int           // previous passwords refused; at least FloorHistory
}

// DefaultPolicy is the IAM-3 policy: 10 characters, 256 bytes at most,
// expiry after 90 days, the last 5 passwords refused.
func DefaultPolicy() Policy {
	return Policy{MinLength: FloorMinLength, MaxLength: 256, MaxAge: 90 * 24 * time.Hour, History: FloorHistory}
}

// Validate reports every setting below its floor in one EINVALID error.
func (p Policy) Validate() error {
	var bad []string
	if p.MinLength < FloorMinLength {
		bad = append(bad, "minimum length must be at least 10 characters")
	}
	if p.MaxLength < max(p.MinLength, FloorMinLength) || p.MaxLength > CeilingMaxLength {
		bad = append(bad, "maximum length must be between the minimum length and 1024 bytes")
	}
	if p.MaxAge != 0 && p.MaxAge < FloorMaxAge {
		bad = append(bad, "expiry must be 0 (never) or at least 30 days")
	}
	if p.History < FloorHistory {
		bad = append(bad, "at least the last 5 passwords must be refused")
	}
	if len(bad) > 0 {
		return rempart.Errorf(rempart.EINVALID, "Password policy rejected: %s.", strings.Join(bad, "; "))
	}
	return nil
}

// TenantPolicy overrides a deployment's policy for one tenant; nil fields
// inherit. The result must still meet the floors.
type TenantPolicy struct {
	MinLength *int
	MaxAge    *time.Duration // a pointer to 0 turns expiry off for the tenant
	History   *int
}

// WithTenant returns p with the tenant's overrides applied and validated.
func (p Policy) WithTenant(t TenantPolicy) (Policy, error) {
	if t.MinLength != nil {
		p.MinLength = *t.MinLength
		p.MaxLength = max(p.MaxLength, p.MinLength)
	}
	if t.MaxAge != nil {
		p.MaxAge = *t.MaxAge
	}
	if t.History != nil {
		p.History = *t.History
	}
	return p, p.Validate()
}

// ExpiresAt returns when a password set at changedAt expires, and false when
// the policy has no expiry.
func (p Policy) ExpiresAt(changedAt time.Time) (time.Time, bool) {
	if p.MaxAge == 0 {
		return time.Time{}, false
	}
	return changedAt.Add(p.MaxAge), true
}

// Expired reports whether a password set at changedAt must be changed at now.
func (p Policy) Expired(changedAt, now time.Time) bool {
	at, ok := p.ExpiresAt(changedAt)
	return ok && !now.Before(at)
}
