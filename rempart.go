// Package rempart holds the shared vocabulary of the system: identities of
// callers, the one error type, the clock, and the JSON shapes of the REST API.
//
// It imports only the standard library. Domain packages (keys, audit, guard,
// vault) build on it; adapters (db, httpapi, web, client) translate it to and
// from SQL and HTTP.
package rempart

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"time"
)

// Error codes. Each maps to exactly one HTTP status in httpapi (see
// httpapi/errors.go). Only EINTERNAL errors are logged; their detail never
// reaches a client.
const (
	ECONFLICT       = "conflict"            // 409: the resource exists or changed
	EINTERNAL       = "internal"            // 500: a bug or an unavailable dependency
	EINVALID        = "invalid"             // 400: the request is malformed
	ENOTFOUND       = "not_found"           // 404: no such resource (or not yours: see TEN-1)
	EUNAUTHORIZED   = "unauthorized"        // 401: no valid credential
	EFORBIDDEN      = "forbidden"           // 403: valid credential, not allowed
	EPRECONDITION   = "precondition_failed" // 412: If-Match did not match
	ETOOLARGE       = "too_large"           // 413: body over the limit
	EUNSUPPORTED    = "unsupported_media"   // 415: wrong content type
	ERATELIMIT      = "rate_limited"        // 429: slow down
	EUNAVAILABLE    = "unavailable"         // 503: audit or storage cannot take the request
	EPRECONDREQUIRE = "precondition_required"
	ERANGE          = "range_not_satisfiable" // 416: the byte range is outside the content
)

// Error is the one error type of rempart. Message is safe to show to the
// caller; it never holds a secret or internal detail.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when set on ERATELIMIT, tells the client when to come back.
	RetryAfter time.Duration
	// Challenge, on the EMFAREQUIRED answer to a sign-in whose password was
	// right, is how the sign-in continues with a second factor (IAM-4).
	Challenge *MFAChallenge
}

func (e *Error) Error() string {
	return fmt.Sprintf("rempart error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EINTERNAL otherwise. A nil error has no code.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err; internal errors get a
// generic message.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Clock tells the time; tests inject a fixed or stepping one.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a prefixed random identifier with 130 bits of entropy, such
// as "rec_5x3k…". Prefixes tell kinds apart in logs and audit entries.
func NewID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("rempart: crypto/rand failed: " + err.Error())
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// RandomSecret returns n random bytes encoded in the same alphabet as IDs.
func RandomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("rempart: crypto/rand failed: " + err.Error())
	}
	return idEncoding.EncodeToString(b)
}
