package password

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rempart/rempart"
)

// Rule names a policy rule a password can break; UIs key messages on it.
type Rule string

// The rules Checker.Check applies.
const (
	RuleEncoding  Rule = "encoding"   // not valid UTF-8
	RuleMinLength Rule = "min_length" // too short
	RuleMaxLength Rule = "max_length" // too long
	RuleUpper     Rule = "upper"      // no upper-case letter
	RuleLower     Rule = "lower"      // no lower-case letter
	RuleDigit     Rule = "digit"      // no digit
	RuleSpecial   Rule = "special"    // no character other than a letter or digit
	RulePersonal  Rule = "personal"   // contains the e-mail local part or a name
	RuleCommon    Rule = "common"     // on the blocklist, or a trivial variation
	RuleReused    Rule = "reused"     // one of the recent passwords
	RuleBreached  Rule = "breached"   // seen in a breach (Have I Been Pwned)
)

// Violation is one broken rule with a message for the user.
type Violation struct {
	Rule    Rule   `json:"rule"`
	Message string `json:"message"`
}

// Account is who the password is for; its e-mail and name must not appear
// in the password.
type Account struct {
	Email string
	Name  string
}

// BreachChecker tells how often a password appears in known breaches.
type BreachChecker interface {
	Breaches(ctx context.Context, password string) (int, error)
}

// Checker applies a Policy, the blocklist, the history and optionally a
// breach check to a new password.
type Checker struct {
	Policy    Policy
	Hasher    *Hasher       // verifies the candidate against previous hashes
	Blocklist *Blocklist    // DefaultBlocklist() when nil
	Breach    BreachChecker // optional; nil skips the check
}

// Check returns every rule password breaks, and, if any, one EINVALID error
// listing them all so the user can fix everything at once. previous holds
// the account's earlier PHC hashes, newest first; the first Policy.History
// are compared. Other errors (hashing saturated, breach service down) come
// back without violations of their own.
func (c *Checker) Check(ctx context.Context, password string, acct Account, previous []string) ([]Violation, error) {
	vs := c.rules(password, acct)
	tooLong := len(password) > c.Policy.MaxLength
	if !tooLong {
		reused, err := c.reused(ctx, password, previous)
		if err != nil {
			return nil, err
		}
		if reused {
			vs = append(vs, Violation{RuleReused, fmt.Sprintf("must not be one of your last %d passwords", c.Policy.History)})
		}
	}
	if c.Breach != nil && !tooLong {
		n, err := c.Breach.Breaches(ctx, password)
		if err != nil && len(vs) == 0 {
			return nil, err
		}
		if n > 0 {
			vs = append(vs, Violation{RuleBreached, "must not be a password exposed in a known data breach"})
		}
	}
	if len(vs) == 0 {
		return nil, nil
	}
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Message
	}
	return vs, rempart.Errorf(rempart.EINVALID, "Password rejected: it %s.", strings.Join(msgs, "; it "))
}

// rules applies the checks that need no hashing or network.
func (c *Checker) rules(password string, acct Account) []Violation {
	var vs []Violation
	add := func(r Rule, format string, args ...any) { vs = append(vs, Violation{r, fmt.Sprintf(format, args...)}) }
	if !utf8.ValidString(password) {
		add(RuleEncoding, "must be valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(password); n < c.Policy.MinLength {
		add(RuleMinLength, "must be at least %d characters long (it has %d)", c.Policy.MinLength, n)
	}
	if len(password) > c.Policy.MaxLength {
		add(RuleMaxLength, "must be at most %d bytes long", c.Policy.MaxLength)
		return vs // no further work on oversized input
	}
	var upper, lower, digit, special bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsLetter(r):
			special = true
		}
	}
	if !upper {
		add(RuleUpper, "must contain an upper-case letter")
	}
	if !lower {
		add(RuleLower, "must contain a lower-case letter")
	}
	if !digit {
		add(RuleDigit, "must contain a digit")
	}
	if !special {
		add(RuleSpecial, "must contain a special character (not a letter or digit)")
	}
	if part := personalPart(password, acct); part != "" {
		add(RulePersonal, "must not contain your e-mail address or name")
	}
	bl := c.Blocklist
	if bl == nil {
		bl = DefaultBlocklist()
	}
	if _, ok := bl.Contains(password); ok {
		add(RuleCommon, "must not be a common password or a common password with digits, symbols or look-alike characters added")
	}
	return vs
}

// minPersonal is the shortest e-mail or name part looked for: shorter parts
// (Al, Li, Jo) occur by chance in strong passwords.
const minPersonal = 4

// personalPart returns the first part of acct found in password, ignoring
// case: the e-mail's local part whole, and each run of letters or digits in
// it and in the name, from 4 characters up.
func personalPart(password string, acct Account) string {
	pw := strings.ToLower(password)
	local, _, _ := strings.Cut(strings.ToLower(acct.Email), "@")
	parts := []string{local}
	split := func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
	parts = append(parts, strings.FieldsFunc(local, split)...)
	parts = append(parts, strings.FieldsFunc(strings.ToLower(acct.Name), split)...)
	for _, p := range parts {
		if utf8.RuneCountInString(p) >= minPersonal && strings.Contains(pw, p) {
			return p
		}
	}
	return ""
}

// reused reports whether password matches one of the first Policy.History
// hashes of previous.
func (c *Checker) reused(ctx context.Context, password string, previous []string) (bool, error) {
	if len(previous) > c.Policy.History {
		previous = previous[:c.Policy.History]
	}
	for _, enc := range previous {
		ok, _, err := c.Hasher.Verify(ctx, password, enc)
		if err != nil {
			return false, fmt.Errorf("check password history: %w", err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}
