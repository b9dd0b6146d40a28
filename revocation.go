package rempart

import (
	"fmt"
	"time"
)

// Kinds of revocation (IAM-8): a person who leaves, and a person whose
// account is suspected compromised. Both revoke the same things at once;
// offboarding also removes the password, since the person will not be back.
const (
	RevokeOffboard   = "offboard"
	RevokeCompromise = "compromise"
)

// RevocationRequest asks to revoke all of a person's access.
type RevocationRequest struct {
	Kind   string `json:"kind"`   // offboard or compromise
	Reason string `json:"reason"` // why, for the record: 10 to 500 characters
}

// Revocation is what one offboarding or compromise action revoked, in one
// transaction (IAM-8): the evidence, also written into its audit entry.
type Revocation struct {
	UserID          string    `json:"user_id"`
	Kind            string    `json:"kind"`
	Reason          string    `json:"reason"`
	At              time.Time `json:"at"`
	Sessions        int       `json:"sessions"`
	Factors         int       `json:"factors"`
	RecoveryCodes   int       `json:"recovery_codes"`
	Grants          int       `json:"grants"`
	PersonalKeys    int       `json:"personal_keys"`
	PasswordCleared bool      `json:"password_cleared"`
}

// Summary is the revocation in one line, as the audit trail records it.
func (r Revocation) Summary() string {
	s := fmt.Sprintf("revoked %d sessions, %d second factors, %d recovery codes, %d grants, %d personal API keys", r.Sessions, r.Factors, r.RecoveryCodes, r.Grants, r.PersonalKeys)
	if r.PasswordCleared {
		s += ", the password"
	}
	return s
}
