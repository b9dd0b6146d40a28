package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

func TestProblemDecoding(t *testing.T) {
	tests := []struct {
		name    string
		answer  answer
		want    client.Error
		message string // rempart.ErrorMessage
	}{
		{
			name:   "problem",
			answer: problem(404, rempart.ENOTFOUND, "Record not found."),
			want: client.Error{Status: 404, Problem: client.Problem{
				Type: "urn:rempart:problem:not_found", Title: "Not Found", Status: 404,
				Detail: "Record not found.", Code: rempart.ENOTFOUND, RequestID: "req_1",
			}},
			message: "Record not found.",
		},
		{
			name: "rate limited",
			answer: func() answer {
				a := problem(429, rempart.ERATELIMIT, "Slow down.")
				a.Header["Retry-After"] = "3"
				return a
			}(),
			want: client.Error{Status: 429, RetryAfter: 3 * time.Second, Problem: client.Problem{
				Type: "urn:rempart:problem:rate_limited", Title: "Too Many Requests", Status: 429,
				Detail: "Slow down.", Code: rempart.ERATELIMIT, RequestID: "req_1",
			}},
			message: "Slow down.",
		},
		{
			name:   "not a problem document",
			answer: answer{Status: 502, Header: map[string]string{"Content-Type": "text/html", "X-Request-Id": "req_9"}, Body: "<html>\n  Bad gateway\n</html>"},
			want: client.Error{Status: 502, Problem: client.Problem{
				Type: "about:blank", Title: "Bad Gateway", Status: 502, Detail: "<html> Bad gateway </html>",
				Code: rempart.EINTERNAL, RequestID: "req_9",
			}},
			message: "<html> Bad gateway </html>",
		},
		{
			name:   "bare status with a known code",
			answer: answer{Status: 412},
			want: client.Error{Status: 412, Problem: client.Problem{
				Type: "about:blank", Title: "Precondition Failed", Status: 412, Code: rempart.EPRECONDITION,
			}},
		},
		{
			name:   "unexpected success status",
			answer: jsonAnswer(200, recJS),
			want: client.Error{Status: 200, Problem: client.Problem{
				Type: "about:blank", Title: "OK", Status: 200, Code: rempart.EINTERNAL, Detail: recJS,
			}},
			message: recJS,
		},
	}
	f := newFake(t)
	c := f.client()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.reply(tt.answer)
			_, err := c.CreateRecord(ctx, "ten_1", "calls", map[string]int{"a": 1}, "")
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T %v, want *client.Error", err, err)
			}
			if diff := cmp.Diff(tt.want, *e); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if got := client.ErrorCode(err); got != tt.want.Problem.Code {
				t.Errorf("client.ErrorCode: got %q, want %q", got, tt.want.Problem.Code)
			}
			if got := rempart.ErrorCode(err); got != tt.want.Problem.Code {
				t.Errorf("rempart.ErrorCode: got %q, want %q", got, tt.want.Problem.Code)
			}
			if got := rempart.ErrorMessage(err); got != tt.message {
				t.Errorf("rempart.ErrorMessage: got %q, want %q", got, tt.message)
			}
			var re *rempart.Error
			if !errors.As(err, &re) || re.RetryAfter != tt.want.RetryAfter {
				t.Errorf("errors.As *rempart.Error: got %+v", re)
			}
			if !strings.Contains(err.Error(), tt.want.Problem.Code) {
				t.Errorf("Error(): %q does not name the code", err.Error())
			}
		})
	}
}

func TestErrorWrapped(t *testing.T) {
	f := newFake(t)
	f.reply(problem(409, rempart.ECONFLICT, "Taken."))
	_, err := f.client().CreateTenant(ctx, rempart.TenantCreate{Name: "x"})
	wrapped := errors.Join(errors.New("setup"), err)
	if got := client.ErrorCode(wrapped); got != rempart.ECONFLICT {
		t.Errorf("wrapped: got %q, want conflict", got)
	}
	if got := rempart.ErrorCode(wrapped); got != rempart.ECONFLICT {
		t.Errorf("rempart.ErrorCode wrapped: got %q, want conflict", got)
	}
}

func TestTransportErrors(t *testing.T) {
	f := newFake(t)
	url := f.srv.URL
	f.srv.Close()
	_, err := client.New(url).ListTenants(ctx)
	if err == nil {
		t.Fatal("closed server: got no error")
	}
	if got := client.ErrorCode(err); got != "" {
		t.Errorf("client.ErrorCode of a network error: got %q, want empty", got)
	}
	if got := client.ErrorCode(nil); got != "" {
		t.Errorf("client.ErrorCode(nil): got %q", got)
	}

	f = newFake(t)
	f.reply(jsonAnswer(200, tenJS))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.client().GetTenant(cctx, "ten_1"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

func TestEncodeError(t *testing.T) {
	f := newFake(t)
	if _, err := f.client().CreateRecord(ctx, "ten_1", "calls", map[string]any{"f": func() {}}, ""); err == nil {
		t.Error("unencodable data: got no error")
	}
	if _, err := f.client().CreateRecord(ctx, "ten_1", "calls", []byte(nil), ""); client.ErrorCode(err) != rempart.EINVALID {
		t.Errorf("nil bytes: got %v, want invalid", err)
	}
	if f.request().Method != "" {
		t.Errorf("a request was sent: %+v", f.request())
	}
}

// TestSignInChallenge: the mfa_required answer to a sign-in whose password
// was right carries the challenge to continue with, reachable from the
// client's error and from rempart.Error alike; other errors carry none.
func TestSignInChallenge(t *testing.T) {
	f := newFake(t)
	c := f.client()
	f.reply(answer{Status: 403, Header: map[string]string{"Content-Type": "application/problem+json"},
		Body: `{"type":"urn:rempart:problem:mfa_required","title":"Forbidden","status":403,"detail":"d","code":"mfa_required",` +
			`"challenge":"ch_1","challenge_expires_at":` + t0JSON + `,"factors":["totp","webauthn"]}`})
	_, err := c.SignIn(ctx, rempart.SignIn{Email: "a@example.com", Password: "p"})
	want := &rempart.MFAChallenge{Challenge: "ch_1", ExpiresAt: t0, Factors: []string{"totp", "webauthn"}}
	if diff := cmp.Diff(want, client.SignInChallenge(err)); diff != "" {
		t.Errorf("challenge (-want +got):\n%s", diff)
	}
	var re *rempart.Error
	if !errors.As(err, &re) || re.Code != rempart.EMFAREQUIRED || !cmp.Equal(want, re.Challenge) {
		t.Errorf("as rempart.Error: %+v", re)
	}
	f.reply(problem(401, rempart.EUNAUTHORIZED, "The email or password is incorrect."))
	if _, err := c.SignIn(ctx, rempart.SignIn{Email: "a@example.com", Password: "p"}); err == nil || client.SignInChallenge(err) != nil {
		t.Errorf("a wrong password: %v, want an error without a challenge", err)
	}
}
