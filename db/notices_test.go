package db_test

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/password"
	"github.com/rempart/rempart/internal/smtptest"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/notify"
)

const (
	firefox    = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	firefoxNew = "Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0"
	// chrome carries text of the signer-in's choosing, which must not
	// reach the mail.
	chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 CALL-555-0100-NOW"
)

// mailBody is a delivered message's text, decoded.
func mailBody(t *testing.T, m smtptest.Message) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mailbox reads a server's delivered messages one at a time: Maildir
// names do not order messages delivered within the same second.
type mailbox struct {
	srv  *smtptest.Server
	seen map[string]bool
}

// next waits for the nth message and returns the one not read before.
func (b *mailbox) next(t *testing.T, n int) (smtptest.Message, string) {
	t.Helper()
	msgs := b.srv.Wait(t, n)
	if len(msgs) != n {
		t.Fatalf("%d messages delivered, want %d", len(msgs), n)
	}
	for _, m := range msgs {
		if id := m.Header.Get("Message-ID"); !b.seen[id] {
			b.seen[id] = true
			return m, mailBody(t, m)
		}
	}
	t.Fatal("no new message")
	return smtptest.Message{}, ""
}

// closedPort is a loopback port nothing listens on: a relay that is down.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// lastNotice is the newest account.notice audit entry.
func lastNotice(t *testing.T, d *db.DB) rempart.AuditEntry {
	t.Helper()
	es, err := d.AuditLog(ctx, audit.Query{Action: "account.notice", Limit: 1000})
	if err != nil || len(es) == 0 {
		t.Fatalf("account.notice entries: %d, %v", len(es), err)
	}
	return es[len(es)-1]
}

// TestAccountNotices runs account mail through the outbox to a real
// Postfix on both dialects: a sign-in from a network and browser not seen
// before is mailed once, with when, where and which browser and what to
// do (ASVS 3.x, IAM-6), the same network and browser again is not, another
// /24 is, the first sign-in of an account is not; a relay that is down
// delays a notice, audited, until a later attempt; a relay that keeps
// refusing is given up after the bounded attempts, audited; password
// expiry reminders go at 14 and at 3 days, once each, and never to people
// without a password or without expiry (IAM-3).
func TestAccountNotices(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		srv := smtptest.Start(t, smtptest.Options{})
		up, err := notify.New(notify.Config{Host: srv.Host, Port: srv.Port, RootCAs: srv.RootCAs, From: "rempart <noreply@rempart.test>", Attempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		down, err := notify.New(notify.Config{Host: "127.0.0.1", Port: closedPort(t), Security: notify.Plain, From: "rempart <noreply@rempart.test>", Attempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		notices, err := notify.NewAccountNotices(up, "security@example.test")
		if err != nil {
			t.Fatal(err)
		}
		d := open(t)
		clock := testclock.New(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC))
		id := identity.New(d, clock, identity.Config{MFAKey: mfaKey, Notices: notices})
		send := func(want int) {
			t.Helper()
			if n, err := id.SendNotices(ctx); err != nil || n != want {
				t.Fatalf("SendNotices: %d sent, %v; want %d", n, err, want)
			}
		}
		pending := func(want int) []identity.NoticeRow {
			t.Helper()
			ns, err := d.PendingNotices(ctx)
			if err != nil || len(ns) != want {
				t.Fatalf("outbox: %+v, %v; want %d", ns, err, want)
			}
			return ns
		}
		const pw = "First-passw0rd-ok"
		signIn := func(email, ip, ua string) {
			t.Helper()
			if _, err := id.SignIn(ctx, rempart.Caller{IP: ip, UserAgent: ua}, rempart.SignIn{Email: email, Password: pw}, rempart.SessionAPI); err != nil {
				t.Fatalf("sign-in from %s: %v", ip, err)
			}
		}

		// People: Grace (staff), Bob (staff, whose password was cleared),
		// Busy (whose relay answers "try again later") in a tenant
		// without password expiry.
		invitePerson(t, id, "", "grace@example.test", rempart.RoleAuditor)
		invitePerson(t, id, "", "bob@example.test", rempart.RoleAuditor)
		noExpiry := newTenant(t, d, "No expiry").TenantID()
		never := time.Duration(0)
		if err := d.SetTenantPasswordPolicy(ctx, rempart.AuditEntry{Action: "tenant.password_policy.update", Outcome: rempart.OutcomeSuccess, TenantID: noExpiry}, noExpiry, password.TenantPolicy{MaxAge: &never}); err != nil {
			t.Fatal(err)
		}
		invitePerson(t, id, noExpiry, smtptest.Temporary, rempart.RoleReader)
		grace, err := d.UserByEmail(ctx, "grace@example.test")
		if err != nil {
			t.Fatal(err)
		}
		bob, err := d.UserByEmail(ctx, "bob@example.test")
		if err != nil {
			t.Fatal(err)
		}
		e := rempart.AuditEntry{Action: "user.revoke_access", Outcome: rempart.OutcomeSuccess}
		if _, err := d.RevokeAccess(ctx, e, "", bob.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := d.SetUserStatus(ctx, rempart.AuditEntry{Action: "user.reactivate", Outcome: rempart.OutcomeSuccess}, "", bob.ID, rempart.UserActive); err != nil {
			t.Fatal(err)
		}

		// The first sign-in of an account: nothing to compare with, no mail.
		signIn("grace@example.test", "192.0.2.10", firefox)
		pending(0)
		send(0)
		// The same /24 and browser family, a newer version: known.
		clock.Advance(time.Hour)
		signIn("grace@example.test", "192.0.2.77", firefoxNew)
		pending(0)
		// Another network and browser: one notice, not sent by the sign-in
		// itself but by the sender.
		clock.Advance(time.Hour)
		at := clock.Now()
		signIn("grace@example.test", "198.51.100.5", chrome)
		pending(1)
		if got := srv.Messages(t); len(got) != 0 {
			t.Fatalf("mail before the sender ran: %d", len(got))
		}
		send(1)
		pending(0)
		box := &mailbox{srv: srv, seen: map[string]bool{}}
		msg, body := box.next(t, 1)
		if to, subj := msg.Header.Get("To"), msg.Header.Get("Subject"); to != "<grace@example.test>" || subj != "A new sign-in to your rempart account" {
			t.Errorf("sign-in notice to %q, subject %q", to, subj)
		}
		for _, want := range []string{"Hello P,", "An API access token was issued for your account to a network and program not seen for it before.", "When:    " + at.Format(time.RFC1123),
			"From:    198.51.100.5", "Browser: Chrome on Windows", "end every session you do not recognise", "Change your password", "security team", "Write to security@example.test."} {
			if !strings.Contains(body, want) {
				t.Errorf("sign-in notice lacks %q:\n%s", want, body)
			}
		}
		for _, not := range []string{"CALL-555", "http", pw} {
			if strings.Contains(body, not) {
				t.Errorf("sign-in notice holds %q:\n%s", not, body)
			}
		}
		// Same /24, same browser: none; another /24: one.
		signIn("grace@example.test", "198.51.100.200", chrome)
		pending(0)
		signIn("grace@example.test", "198.51.101.5", chrome)
		pending(1)
		send(1)
		if _, b := box.next(t, 2); !strings.Contains(b, "From:    198.51.101.5") {
			t.Fatalf("the second sign-in notice:\n%s", b)
		}
		// What is remembered: three keyed hashes, none holding the address.
		fps, err := d.SignInNetworks(ctx, grace.ID)
		if err != nil || len(fps) != 3 {
			t.Fatalf("networks remembered: %d, %v; want 3", len(fps), err)
		}
		for _, fp := range fps {
			if len(fp) != 32 || bytes.Contains(fp, []byte("198.51")) || bytes.Contains(fp, []byte{198, 51, 100}) {
				t.Errorf("fingerprint %x is not a 32-byte hash", fp)
			}
		}
		if e := lastNotice(t, d); e.Outcome != rempart.OutcomeSuccess || !strings.HasPrefix(e.Reason, identity.NoticeSignIn+": ") || e.Resource == "" {
			t.Errorf("sign-in notice audited as %+v", e)
		}

		// The relay is down: the change is made, the notice waits, the
		// failure is audited; the next attempt, once due, delivers it.
		notices.Mailer = down
		const newPW = "Compiler-n0tes-1952"
		if err := id.ChangePassword(ctx, rempart.Caller{IP: "203.0.113.4"}, rempart.PasswordChange{Email: "grace@example.test", Current: pw, New: newPW}); err != nil {
			t.Fatal(err)
		}
		changed := clock.Now()
		send(0)
		if n := pending(1)[0]; n.Attempts != 1 || !n.NextAt.Equal(changed.Add(2*time.Minute)) {
			t.Errorf("after a failed attempt: %+v, want attempt 1, next in 2 minutes", n)
		}
		if e := lastNotice(t, d); e.Outcome != rempart.OutcomeFailure || !strings.Contains(e.Reason, "attempt 1 of 6 failed: temporary failure; next at ") {
			t.Errorf("failed attempt audited as %+v", e)
		}
		notices.Mailer = up
		send(0) // not due yet
		clock.Advance(2 * time.Minute)
		send(1)
		pending(0)
		if _, b := box.next(t, 3); !strings.Contains(b, "Your password was changed") || !strings.Contains(b, "From: 203.0.113.4") || strings.Contains(b, newPW) {
			t.Fatalf("the retried notice:\n%s", b)
		}
		if e := lastNotice(t, d); e.Outcome != rempart.OutcomeSuccess || !strings.HasPrefix(e.Reason, "change: Your password was changed") {
			t.Errorf("retried notice audited as %+v", e)
		}

		// A relay that keeps answering "try again later": given up after
		// the last attempt, each attempt audited, the outbox emptied.
		if err := id.ChangePassword(ctx, rempart.Caller{IP: "203.0.113.9"}, rempart.PasswordChange{Email: smtptest.Temporary, Current: pw, New: newPW}); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 6; i++ {
			send(0)
			e := lastNotice(t, d)
			if e.Outcome != rempart.OutcomeFailure || !strings.Contains(e.Reason, "temporary failure, SMTP 450") {
				t.Fatalf("attempt %d audited as %+v", i, e)
			}
			if i < 6 {
				pending(1)
			} else if !strings.Contains(e.Reason, "attempt 6 of 6 failed") || !strings.HasSuffix(e.Reason, "given up)") {
				t.Fatalf("last attempt audited as %+v", e)
			}
			clock.Advance(time.Hour)
		}
		pending(0)

		// Password expiry (90 days by default): Grace's password, changed
		// at changed, is reminded 14 days and 3 days before, once each.
		// Bob has no password, Busy no expiry: neither is reminded, though
		// their passwords were set at the same time as Grace's first one.
		remind := func(want int) {
			t.Helper()
			if n, err := id.RemindPasswordExpiry(ctx); err != nil || n != want {
				t.Fatalf("at %s: %d reminders, %v; want %d", clock.Now(), n, err, want)
			}
		}
		expires := changed.Add(90 * 24 * time.Hour)
		clock.Advance(changed.Add(75 * 24 * time.Hour).Sub(clock.Now()))
		remind(0)
		clock.Advance(24*time.Hour + time.Hour) // 13 days 23 hours left
		remind(1)
		remind(0)
		clock.Advance(24 * time.Hour)
		remind(0)
		send(1)
		m, b := box.next(t, 4)
		if m.Header.Get("To") != "<grace@example.test>" || m.Header.Get("Subject") != "Your rempart password expires soon" ||
			!strings.Contains(b, "expires on "+expires.Format("Monday 2 January 2006 at 15:04 MST")+", in 14 days") || !strings.Contains(b, `"Change password"`) {
			t.Fatalf("the 14-day reminder to %s:\n%s", m.Header.Get("To"), b)
		}
		clock.Advance(expires.Add(-3*24*time.Hour + time.Hour).Sub(clock.Now())) // 2 days 23 hours left
		remind(1)
		remind(0)
		clock.Advance(24 * time.Hour)
		remind(0)
		send(1)
		if _, b := box.next(t, 5); !strings.Contains(b, ", in 3 days") {
			t.Fatalf("the 3-day reminder:\n%s", b)
		}
		// Expired: sign-in refuses, no reminder.
		clock.Advance(3 * 24 * time.Hour)
		remind(0)
		if got := srv.Messages(t); len(got) != 5 {
			t.Fatalf("%d messages in all, want 5", len(got))
		}
	})
}

// TestSignInNetworksStore: a person's remembered networks are bounded to
// the most recent and forgotten after the memory; the outbox bounds a
// person's waiting notices and leases each to one sender; on both
// dialects.
func TestSignInNetworksStore(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		d := open(t)
		clock := testclock.New(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC))
		id := identity.New(d, clock, identity.Config{MFAKey: mfaKey})
		invitePerson(t, id, "", "ops@example.com", rempart.RoleAuditor)
		u, err := d.UserByEmail(ctx, "ops@example.com")
		if err != nil {
			t.Fatal(err)
		}
		t0 := clock.Now()
		memory := 180 * 24 * time.Hour
		record := func(fp byte, at time.Time) bool {
			t.Helper()
			known, err := d.RecordSignIn(ctx, u.ID, bytes.Repeat([]byte{fp}, 32), at, at.Add(-memory), 20)
			if err != nil {
				t.Fatal(err)
			}
			return known
		}
		for i := range 25 {
			if record(byte(i), t0.Add(time.Duration(i)*time.Minute)) {
				t.Fatalf("fingerprint %d known before it was seen", i)
			}
		}
		fps, err := d.SignInNetworks(ctx, u.ID)
		if err != nil || len(fps) != 20 || fps[0][0] != 24 || fps[19][0] != 5 {
			t.Fatalf("after 25: %d remembered (%v), want the 20 newest, 24 down to 5", len(fps), err)
		}
		if !record(10, t0.Add(time.Hour)) {
			t.Error("a remembered fingerprint is not known")
		}
		if record(0, t0.Add(time.Hour)) {
			t.Error("a fingerprint pushed out by newer ones is still known")
		}
		// 180 days after its last sign-in, a network is forgotten.
		late := t0.Add(time.Hour + memory + time.Minute)
		if record(10, late) {
			t.Error("a fingerprint last seen over 180 days ago is still known")
		}
		if fps, _ := d.SignInNetworks(ctx, u.ID); len(fps) != 1 {
			t.Errorf("after 180 days: %d remembered, want 1", len(fps))
		}
		// Forgotten also without a sign-in, by the purge.
		if n, err := d.ForgetSignIns(ctx, late); err != nil || n != 0 {
			t.Errorf("forget before the last sign-in: %d, %v; want none", n, err)
		}
		if n, err := d.ForgetSignIns(ctx, late.Add(time.Nanosecond)); err != nil || n != 1 {
			t.Errorf("forget after the last sign-in: %d, %v; want 1", n, err)
		}
		if fps, _ := d.SignInNetworks(ctx, u.ID); len(fps) != 0 {
			t.Errorf("after the purge: %d remembered, want none", len(fps))
		}

		// The outbox: a person's waiting notices are bounded; a due notice
		// is claimed once, counted, and not due again before the lease ends.
		now := clock.Now()
		for i := range 3 {
			n := identity.NoticeRow{ID: rempart.NewID("ntc"), UserID: u.ID, Kind: identity.NoticeChange, What: "change", IP: "192.0.2.1", At: now, NextAt: now.Add(time.Duration(i) * time.Second), CreatedAt: now}
			if err := d.QueueNotice(ctx, n, 2); i < 2 && err != nil || i == 2 && rempart.ErrorCode(err) != rempart.ERATELIMIT {
				t.Fatalf("notice %d of at most 2: %v", i, err)
			}
		}
		got, err := d.ClaimNotices(ctx, now.Add(time.Minute), now.Add(6*time.Minute), 10)
		if err != nil || len(got) != 2 || got[0].Attempts != 1 || !got[0].NextAt.Equal(now.Add(6*time.Minute)) || got[0].IP != "192.0.2.1" {
			t.Fatalf("claimed %+v, %v; want both, at attempt 1, leased", got, err)
		}
		if again, err := d.ClaimNotices(ctx, now.Add(2*time.Minute), now.Add(7*time.Minute), 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed again within the lease: %+v, %v", again, err)
		}
		e := rempart.AuditEntry{PrincipalID: "system:notices", Action: "account.notice", Outcome: rempart.OutcomeSuccess}
		if err := d.NoticeDone(ctx, e, got[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := d.NoticeRetry(ctx, e, got[1].ID, now.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		again, err := d.ClaimNotices(ctx, now.Add(3*time.Minute), now.Add(8*time.Minute), 10)
		if err != nil || len(again) != 1 || again[0].ID != got[1].ID || again[0].Attempts != 2 {
			t.Fatalf("after done and retry: %+v, %v; want the retried one at attempt 2", again, err)
		}
	})
}
