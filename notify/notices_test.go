package notify_test

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/internal/smtptest"
	"github.com/rempart/rempart/notify"
)

// TestAccountNoticesMailed: a person is told by mail, through a real
// Postfix, when a second factor is added and when the password changes,
// with when and from where, and nothing secret; a notice the relay refuses
// does not undo the change and is audited as failed and given up at once
// (ASVS 2.2.3, 2.5.5). Notices go through the outbox: SendNotices mails
// them.
func TestAccountNoticesMailed(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t, smtptest.Options{})
	m, err := notify.New(notify.Config{Host: srv.Host, Port: srv.Port, RootCAs: srv.RootCAs, From: "rempart <noreply@rempart.test>"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "rempart.db"), Clock: rempart.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	id := identity.New(d, rempart.SystemClock{}, identity.Config{MFAKey: bytes.Repeat([]byte{7}, 32), Notices: &notify.AccountNotices{Mailer: m}})
	tok, err := id.EnsureBootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := id.Bootstrap(ctx, rempart.Caller{}, tok)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := id.Authenticate(ctx, rempart.Caller{}, b.Key.Secret)
	if err != nil {
		t.Fatal(err)
	}
	// enrol gives email an authenticator app from a session at 192.0.2.44.
	enrol := func(email string) (rempart.FactorConfirmed, error) {
		t.Helper()
		inv, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: email, Role: rempart.RoleAuditor})
		if err == nil && inv.Status == rempart.InvitationPendingApproval { // staff: a second person approves (IAM-10)
			second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
			inv, err = id.ApproveInvitation(ctx, second, "", inv.ID, rempart.RoleChangeDecision{})
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Grace Hopper", Password: password}); err != nil {
			t.Fatal(err)
		}
		sess, err := id.SignIn(ctx, rempart.Caller{IP: "192.0.2.44"}, rempart.SignIn{Email: email, Password: password}, rempart.SessionAPI)
		if err != nil {
			t.Fatal(err)
		}
		me, err := id.Authenticate(ctx, rempart.Caller{IP: "192.0.2.44"}, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		en, err := id.StartTOTP(ctx, me, rempart.TOTPStart{Name: "work phone"})
		if err != nil {
			t.Fatal(err)
		}
		secret, _ := totp.DecodeSecret(en.Secret)
		return id.ConfirmTOTP(ctx, me, en.ID, rempart.MFACode{Code: totp.Code(secret, time.Now())})
	}
	if _, err := enrol("grace@example.test"); err != nil {
		t.Fatal(err)
	}
	const newPassword = "Compiler-n0tes-1952"
	if err := id.ChangePassword(ctx, rempart.Caller{IP: "198.51.100.7"}, rempart.PasswordChange{Email: "grace@example.test", Current: password, New: newPassword}); err != nil {
		t.Fatal(err)
	}
	if n, err := id.SendNotices(ctx); err != nil || n != 2 {
		t.Fatalf("SendNotices: %d, %v; want 2", n, err)
	}
	msgs := srv.Wait(t, 2)
	wants := [][]string{
		{`An authenticator app ("work phone") was added`, "From: 192.0.2.44", "Hello Grace Hopper"},
		{"Your password was changed", "From: 198.51.100.7"},
	}
	// Maildir names do not order messages delivered within one second:
	// each notice is found by its first line.
	bodies := map[string]string{}
	for _, msg := range msgs {
		if to := msg.Header.Get("To"); to != "<grace@example.test>" {
			t.Errorf("notice to %q", to)
		}
		b, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		for _, w := range wants {
			if strings.Contains(string(b), w[0]) {
				bodies[w[0]] = string(b)
			}
		}
	}
	for i, want := range wants {
		body := bodies[want[0]]
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("notice %d lacks %q:\n%s", i, w, body)
			}
		}
		for _, secret := range []string{password, newPassword, "http"} {
			if strings.Contains(body, secret) {
				t.Errorf("notice %d holds %q:\n%s", i, secret, body)
			}
		}
	}

	// The relay refuses the notice: the factor stays, the failure is audited.
	out, err := enrol("nobody@example.test")
	if err != nil || len(out.RecoveryCodes) != 10 {
		t.Fatalf("enrolment whose notice is refused: %+v, %v", out, err)
	}
	if n, err := id.SendNotices(ctx); err != nil || n != 0 {
		t.Fatalf("SendNotices of a refused notice: %d, %v", n, err)
	}
	es, err := d.AuditLog(ctx, audit.Query{Action: "account.notice", Limit: 10})
	if err != nil || len(es) != 3 || es[0].Outcome != rempart.OutcomeSuccess || es[1].Outcome != rempart.OutcomeSuccess || es[2].Outcome != rempart.OutcomeFailure {
		t.Fatalf("notice entries: %+v, %v; want two sent and one failed", es, err)
	}
	// A refusal is permanent: not retried, and the outbox keeps nothing.
	if r := es[2].Reason; !strings.Contains(r, "attempt 1 of 6 failed: permanent failure, SMTP 550; given up") || strings.Contains(r, "nobody@") {
		t.Errorf("refused notice audited as %q", r)
	}
	if left, err := d.PendingNotices(ctx); err != nil || len(left) != 0 {
		t.Errorf("outbox after a refusal: %+v, %v", left, err)
	}
}
