package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart"
)

// Problem is an RFC 9457 problem details document as rempart writes it.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
	// MFAChallenge is set on the mfa_required answer to a sign-in whose
	// password was right: how to continue it (see SignInChallenge).
	*rempart.MFAChallenge
}

// Error is an error answered by the server: any status other than the one
// the call expects. When the body is not a problem document (a proxy's error
// page, say) Problem is derived from the status.
//
// An *Error also answers errors.As with a *rempart.Error holding the
// problem's code and detail, so rempart.ErrorCode and rempart.ErrorMessage
// work on the client's errors as on the server's.
type Error struct {
	Status  int
	Problem Problem
	// RetryAfter is the server's Retry-After (on 429 and 503), or 0.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rempart api: %d %s", e.Status, e.Problem.Code)
	if e.Problem.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Problem.Detail)
	}
	if e.Problem.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", e.Problem.RequestID)
	}
	return b.String()
}

// As lets errors.As find a *rempart.Error in an *Error.
func (e *Error) As(target any) bool {
	t, ok := target.(**rempart.Error)
	if !ok {
		return false
	}
	*t = &rempart.Error{Code: e.Problem.Code, Message: e.Problem.Detail, RetryAfter: e.RetryAfter, Challenge: e.Problem.MFAChallenge}
	return true
}

// ErrorCode returns the rempart error code of err: the problem code of an
// *Error, the code of a *rempart.Error (the client's own argument checks),
// and "" for nil and for errors that did not come from the server, such as
// network failures.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Problem.Code
	}
	var re *rempart.Error
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

// statusCodes maps HTTP statuses to rempart codes, for error answers that
// are not problem documents.
var statusCodes = map[int]string{
	http.StatusBadRequest:                   rempart.EINVALID,
	http.StatusUnauthorized:                 rempart.EUNAUTHORIZED,
	http.StatusForbidden:                    rempart.EFORBIDDEN,
	http.StatusNotFound:                     rempart.ENOTFOUND,
	http.StatusMethodNotAllowed:             rempart.EINVALID,
	http.StatusConflict:                     rempart.ECONFLICT,
	http.StatusPreconditionFailed:           rempart.EPRECONDITION,
	http.StatusRequestEntityTooLarge:        rempart.ETOOLARGE,
	http.StatusUnsupportedMediaType:         rempart.EUNSUPPORTED,
	http.StatusUnprocessableEntity:          rempart.EINVALID,
	http.StatusPreconditionRequired:         rempart.EPRECONDREQUIRE,
	http.StatusTooManyRequests:              rempart.ERATELIMIT,
	http.StatusServiceUnavailable:           rempart.EUNAVAILABLE,
	http.StatusRequestedRangeNotSatisfiable: rempart.ERANGE,
}

// maxProblemBytes bounds how much of an error body is read.
const maxProblemBytes = 64 << 10

// responseError builds the *Error of an unexpected response. It reads (a
// bounded part of) the body but does not close it.
func responseError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblemBytes))
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		var p Problem
		if json.Unmarshal(b, &p) == nil && p.Code != "" {
			e.Problem = p
		}
	}
	if e.Problem.Code == "" {
		code, ok := statusCodes[resp.StatusCode]
		if !ok {
			code = rempart.EINTERNAL
		}
		e.Problem = Problem{
			Type:   "about:blank",
			Title:  http.StatusText(resp.StatusCode),
			Status: resp.StatusCode,
			Code:   code,
			Detail: snippet(b),
		}
	}
	if e.Problem.Status == 0 {
		e.Problem.Status = resp.StatusCode
	}
	if e.Problem.RequestID == "" {
		e.Problem.RequestID = resp.Header.Get("X-Request-Id")
	}
	return e
}

// snippet returns the start of a non-problem error body as one line of
// valid text.
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		b = b[:max]
	}
	return strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "")), " ")
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
