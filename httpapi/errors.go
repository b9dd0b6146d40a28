package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/httpsrv"
)

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
	// MFAChallenge, on the mfa_required answer to a sign-in whose password
	// was right, adds the members challenge, challenge_expires_at and
	// factors: how the sign-in continues (IAM-4).
	*rempart.MFAChallenge
}

// writeError answers with a problem document. Internal errors are logged
// with their detail; the client sees only a generic message and the request
// ID to quote.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := rempart.ErrorCode(err)
	status := httpsrv.ErrorStatus(w, err)
	reqID := requestID(r)
	if status >= 500 {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("request_id", reqID), slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	p := Problem{
		Type:      "urn:rempart:problem:" + code,
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    rempart.ErrorMessage(err),
		Code:      code,
		RequestID: reqID,
	}
	if re := (*rempart.Error)(nil); errors.As(err, &re) && code == rempart.EMFAREQUIRED {
		p.MFAChallenge = re.Challenge
	}
	json.NewEncoder(w).Encode(p)
}

// writeJSON answers with a JSON document.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n')) // a client gone away is not our error
	return nil
}
