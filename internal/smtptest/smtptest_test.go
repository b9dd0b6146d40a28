package smtptest

import (
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
