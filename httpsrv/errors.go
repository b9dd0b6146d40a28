package httpsrv

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/rempart/rempart"
)

// statuses maps each rempart error code to its one HTTP status, for every
// transport (the API's problem documents, the console's pages).
var statuses = map[string]int{
	rempart.ECONFLICT:       http.StatusConflict,
	rempart.EINTERNAL:       http.StatusInternalServerError,
	rempart.EINVALID:        http.StatusBadRequest,
	rempart.ENOTFOUND:       http.StatusNotFound,
	rempart.EUNAUTHORIZED:   http.StatusUnauthorized,
	rempart.EFORBIDDEN:      http.StatusForbidden,
	rempart.EPRECONDITION:   http.StatusPreconditionFailed,
	rempart.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	rempart.EUNSUPPORTED:    http.StatusUnsupportedMediaType,
	rempart.ERATELIMIT:      http.StatusTooManyRequests,
	rempart.EUNAVAILABLE:    http.StatusServiceUnavailable,
	rempart.EPRECONDREQUIRE: http.StatusPreconditionRequired,
	rempart.ERANGE:          http.StatusRequestedRangeNotSatisfiable,
	rempart.EMFAREQUIRED:    http.StatusForbidden,
}

// ErrorStatus returns the HTTP status of err (500 for anything that is not
// a rempart error) and sets Retry-After on w when err carries one (NET-2).
func ErrorStatus(w http.ResponseWriter, err error) int {
	st, ok := statuses[rempart.ErrorCode(err)]
	if !ok {
		st = http.StatusInternalServerError
	}
	var e *rempart.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	return st
}
