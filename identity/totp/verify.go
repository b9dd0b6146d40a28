package totp

import (
	"crypto/subtle"
	"unicode"

	"github.com/rempart/rempart"
)

// Skew bounds: how many steps either side of the current one a Verifier
// accepts by default, and at most.
const (
	DefaultSkew = 1
	MaxSkew     = 2
)

// Errors of Verify for a well-formed code that is refused. Both carry the
// same code and message, so a client cannot tell them apart; callers compare
// with errors.Is to audit a replay differently from a wrong code.
var (
	ErrWrongCode = rempart.Errorf(rempart.EUNAUTHORIZED, "The code is not valid.")
	ErrReplayed  = rempart.Errorf(rempart.EUNAUTHORIZED, "The code is not valid.")
)

// maxInput bounds the raw input Verify looks at, spaces included.
const maxInput = 64

// A Verifier checks codes against the time of its clock.
type Verifier struct {
	clock rempart.Clock
	skew  int
}

// NewVerifier returns a Verifier that accepts codes of up to skew steps
// before or after the current step (0 to MaxSkew; DefaultSkew is 1).
func NewVerifier(clock rempart.Clock, skew int) (*Verifier, error) {
	if skew < 0 || skew > MaxSkew {
		return nil, rempart.Errorf(rempart.EINVALID, "TOTP skew must be between 0 and %d steps.", MaxSkew)
	}
	return &Verifier{clock: clock, skew: skew}, nil
}

// Verify checks code against secret. lastStep is the last step accepted for
// this device (0 before the first). On success it returns the step the code
// belongs to, which is always greater than lastStep; the caller must store it
// as the new last step atomically with the decision to let the user in (see
// the package documentation), or the code can be replayed.
//
// Spaces in code are ignored. A code with other non-digits, or not Digits
// long, is an EINVALID error. A well-formed code that matches no step in the
// window is ErrWrongCode; one that matches only steps at or before lastStep
// is ErrReplayed.
//
// Every step in the window is computed and compared in constant time, so the
// time taken does not depend on which step, if any, matched. If the code
// matches several steps (two steps share a code once in a million), the
// latest one counts, so that the same digits cannot be accepted twice.
func (v *Verifier) Verify(secret []byte, code string, lastStep int64) (int64, error) {
	in, err := normalize(code)
	if err != nil {
		return 0, err
	}
	now := Step(v.clock.Now())
	var matched, replayed int64 = -1, 0
	for s := now - int64(v.skew); s <= now+int64(v.skew); s++ {
		if s < 0 {
			continue
		}
		eq := int64(subtle.ConstantTimeCompare([]byte(hotp(secret, uint64(s), Digits)), in))
		// Steps are public (they come from the clock); only eq is secret.
		var after int64
		if s > lastStep {
			after = 1
		}
		fresh := eq & after
		// Later steps overwrite earlier ones: the latest match wins.
		mask := -fresh
		matched = s&mask | matched&^mask
		replayed |= eq &^ after
	}
	switch {
	case matched >= 0:
		return matched, nil
	case replayed != 0:
		return 0, ErrReplayed
	default:
		return 0, ErrWrongCode
	}
}

// normalize strips white space and checks that what is left is Digits ASCII
// digits.
func normalize(code string) ([]byte, error) {
	if len(code) > maxInput {
		return nil, rempart.Errorf(rempart.EINVALID, "The code must be %d digits.", Digits)
	}
	out := make([]byte, 0, Digits)
	for _, r := range code {
		switch {
		case unicode.IsSpace(r):
		case '0' <= r && r <= '9':
			out = append(out, byte(r))
		default:
			return nil, rempart.Errorf(rempart.EINVALID, "The code must contain only digits.")
		}
	}
	if len(out) != Digits {
		return nil, rempart.Errorf(rempart.EINVALID, "The code must be %d digits.", Digits)
	}
	return out, nil
}
