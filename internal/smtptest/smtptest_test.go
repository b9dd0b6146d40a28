package smtptest

import (
	"crypto/tls"
	"net/smtp"
	"strings"
	"testing"
)

// TestDelivers checks the harness itself with the standard library's
// client: a message to the test domain lands in the Maildir, and the
// scripted recipients answer 450 and 550.
func TestDelivers(t *testing.T) {
	s := Start(t, Options{NoTLS: true})
	msg := "From: a@rempart.test\r\nTo: u@example.test\r\nSubject: harness\r\n\r\nhello\r\n"
	if err := smtp.SendMail(s.Addr(), nil, "a@rempart.test", []string{"u@example.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	ms := s.Wait(t, 1)
	if got := ms[0].Header.Get("Subject"); got != "harness" {
		t.Errorf("subject %q", got)
	}
	err := smtp.SendMail(s.Addr(), nil, "a@rempart.test", []string{Temporary}, []byte(msg))
	if err == nil || !strings.HasPrefix(err.Error(), "450") {
		t.Errorf("temporary recipient: %v, want 450", err)
	}
	err = smtp.SendMail(s.Addr(), nil, "a@rempart.test", []string{Rejected}, []byte(msg))
	if err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("rejected recipient: %v, want 550", err)
	}
}

// TestAuthRequired checks that a server with a user accepts a message only
// after authentication, over TLS.
func TestAuthRequired(t *testing.T) {
	s := Start(t, Options{User: "rempart", Password: "relay-pass"})
	msg := "From: a@rempart.test\r\nTo: u@example.test\r\nSubject: auth\r\n\r\nhello\r\n"
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{ServerName: s.Host, RootCAs: s.RootCAs}); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@rempart.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("u@example.test"); err == nil || !strings.HasPrefix(err.Error(), "554") {
		t.Fatalf("unauthenticated RCPT: %v, want 554", err)
	}
	c.Reset()
	if err := c.Auth(smtp.PlainAuth("", "rempart", "relay-pass", s.Host)); err != nil {
		t.Fatalf("auth: %v\n%s", err, s.Log())
	}
	if err := c.Mail("a@rempart.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("u@example.test"); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Data()
	w.Write([]byte(msg))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s.Wait(t, 1)
}
