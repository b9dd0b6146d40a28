package rempart_test

import (
	"testing"
	"time"

	"github.com/rempart/rempart"
)

// TestGrantStatusAt: a grant's status follows from its times alone, so that
// nothing needs to run for a grant to expire or a request to lapse (IAM-7).
func TestGrantStatusAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	pending := rempart.Grant{CreatedAt: t0, DurationMinutes: 60}
	active := pending
	active.ApprovedAt, active.ActiveFrom, active.ExpiresAt = at(time.Minute), at(time.Minute), at(61*time.Minute)
	revoked := active
	revoked.RevokedAt = at(2 * time.Minute)
	denied := pending
	denied.DeniedAt = at(time.Minute)
	cases := []struct {
		name string
		g    rempart.Grant
		now  time.Time
		want string
	}{
		{"new request", pending, t0, rempart.GrantPending},
		{"request just before it lapses", pending, t0.Add(rempart.GrantRequestTTL - time.Nanosecond), rempart.GrantPending},
		{"request lapsed", pending, t0.Add(rempart.GrantRequestTTL), rempart.GrantExpired},
		{"approved", active, t0.Add(time.Minute), rempart.GrantActive},
		{"last instant", active, t0.Add(61*time.Minute - time.Nanosecond), rempart.GrantActive},
		{"at its expiry", active, t0.Add(61 * time.Minute), rempart.GrantExpired},
		{"revoked while active", revoked, t0.Add(2 * time.Minute), rempart.GrantRevoked},
		{"denied", denied, t0.Add(time.Minute), rempart.GrantDenied},
	}
	for _, c := range cases {
		if got := c.g.StatusAt(c.now); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
		if c.g.ActiveAt(c.now) != (c.want == rempart.GrantActive) {
			t.Errorf("%s: ActiveAt disagrees with StatusAt", c.name)
		}
	}
}
