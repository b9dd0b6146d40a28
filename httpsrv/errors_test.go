package httpsrv_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/httpsrv"
)

func TestErrorStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		retry  string
	}{
		{rempart.Errorf(rempart.EINVALID, "bad"), http.StatusBadRequest, ""},
		{rempart.Errorf(rempart.ENOTFOUND, "no"), http.StatusNotFound, ""},
		{rempart.Errorf(rempart.ERANGE, "out"), http.StatusRequestedRangeNotSatisfiable, ""},
		{&rempart.Error{Code: rempart.ERATELIMIT, Message: "slow", RetryAfter: 1500 * time.Millisecond}, http.StatusTooManyRequests, "2"},
		{&rempart.Error{Code: "no_such_code", Message: "?"}, http.StatusInternalServerError, ""},
		{errors.New("a bug"), http.StatusInternalServerError, ""},
	} {
		w := httptest.NewRecorder()
		if got := httpsrv.ErrorStatus(w, c.err); got != c.status || w.Header().Get("Retry-After") != c.retry {
			t.Errorf("%v: got %d, Retry-After %q; want %d, %q", c.err, got, w.Header().Get("Retry-After"), c.status, c.retry)
		}
	}
}
