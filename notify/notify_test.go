package notify

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/smtptest"
)

func newMailer(t *testing.T, srv *smtptest.Server, cfg Config) *Mailer {
	t.Helper()
	cfg.Host, cfg.Port, cfg.RootCAs = srv.Host, srv.Port, srv.RootCAs
	if cfg.From == "" {
		cfg.From = "rempart <noreply@rempart.test>"
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// parts returns the decoded text and HTML parts of a delivered message.
func parts(t *testing.T, msg smtptest.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return text, html
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			text = string(b)
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			html = string(b)
		}
	}
}

// A message goes through a real Postfix over STARTTLS, with the server's
// certificate verified, and arrives whole in the Maildir (IAM-1).
func TestSendThroughPostfix(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := newMailer(t, srv, Config{})
	err := m.Send(context.Background(), Message{To: "Zoë <zoe@example.test>", Subject: "Grüße from rempart",
		Text: "line one\nhttps://console.example/join#ri_" + strings.Repeat("x", 80) + "\n", HTML: "<p>hello</p>"})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1)[0]
	dec := new(mime.WordDecoder)
	if s, _ := dec.DecodeHeader(got.Header.Get("Subject")); s != "Grüße from rempart" {
		t.Errorf("subject %q", s)
	}
	if to := got.Header.Get("To"); !strings.Contains(to, "<zoe@example.test>") {
		t.Errorf("to %q", to)
	}
	if from := got.Header.Get("From"); from != `"rempart" <noreply@rempart.test>` {
		t.Errorf("from %q", from)
	}
	// Postfix records that the session used TLS.
	if !regexp.MustCompile(`(?m)^Received: .*\n(\s.*\n)*\s.*with ESMTPS`).Match(got.Raw) {
		t.Errorf("message not received over TLS:\n%s", got.Raw)
	}
	text, html := parts(t, got)
	if !strings.Contains(text, "https://console.example/join#ri_"+strings.Repeat("x", 80)+"\n") || html != "<p>hello</p>" {
		t.Errorf("bodies: text %q html %q", text, html)
	}
}

// By default the mailer refuses a relay that offers no STARTTLS, before
// sending anything, and does not retry; plain SMTP needs security none.
func TestStartTLSRequired(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{NoTLS: true})
	m := newMailer(t, srv, Config{Username: "rempart", Password: "s3cret-relay-password"})
	err := m.Send(context.Background(), Message{To: "a@example.test", Subject: "s", Text: "t"})
	var e *Error
	if !errors.As(err, &e) || e.Temporary || e.Attempts != 1 || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("send without STARTTLS: %v, want a permanent refusal after 1 attempt", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error holds the password: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(srv.Messages(t)); n != 0 {
		t.Fatalf("%d message(s) delivered without TLS", n)
	}
	plain := newMailer(t, srv, Config{Security: Plain})
	if err := plain.Send(context.Background(), Message{To: "a@example.test", Subject: "s", Text: "t"}); err != nil {
		t.Fatalf("explicitly plain: %v", err)
	}
	srv.Wait(t, 1)
	// An untrusted certificate is refused too.
	tlsSrv := smtptest.Start(t, smtptest.Options{})
	untrusted := newMailer(t, tlsSrv, Config{})
	untrusted.cfg.RootCAs = nil
	err = untrusted.Send(context.Background(), Message{To: "a@example.test", Subject: "s", Text: "t"})
	if !errors.As(err, &e) || e.Temporary || e.Attempts != 1 {
		t.Fatalf("untrusted certificate: %v, want a permanent failure", err)
	}
}

// A temporary answer (450) is retried with a growing pause up to the
// bound; a permanent one (550) is not retried.
func TestRetries(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := newMailer(t, srv, Config{Attempts: 3, Backoff: 10 * time.Millisecond})
	var waits []time.Duration
	m.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }

	err := m.Send(context.Background(), Message{To: smtptest.Temporary, Subject: "s", Text: "t"})
	var e *Error
	if !errors.As(err, &e) || !e.Temporary || e.Code != 450 || e.Attempts != 3 {
		t.Fatalf("450: %v, want a temporary failure after 3 attempts", err)
	}
	if len(waits) != 2 || waits[0] != 10*time.Millisecond || waits[1] != 20*time.Millisecond {
		t.Errorf("pauses %v, want 10ms then 20ms", waits)
	}
	waits = nil
	err = m.Send(context.Background(), Message{To: smtptest.Rejected, Subject: "s", Text: "t"})
	if !errors.As(err, &e) || e.Temporary || e.Code != 550 || e.Attempts != 1 || len(waits) != 0 {
		t.Fatalf("550: %v (pauses %v), want a permanent failure after 1 attempt", err, waits)
	}
	// A relay that is down is a temporary failure, retried too.
	down := newMailer(t, srv, Config{Attempts: 2, Backoff: time.Millisecond})
	down.cfg.Port = 1
	if err := down.Send(context.Background(), Message{To: "a@example.test", Subject: "s", Text: "t"}); !errors.As(err, &e) || !e.Temporary || e.Attempts != 2 {
		t.Fatalf("relay down: %v", err)
	}
}

// No input can add a header or a recipient: addresses and subjects with
// line breaks, or lists of addresses, are refused before connecting.
func TestHeaderInjectionRefused(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := newMailer(t, srv, Config{})
	for _, msg := range []Message{
		{To: "a@example.test\r\nBcc: b@example.test", Subject: "s", Text: "t"},
		{To: "a@example.test\nBcc: b@example.test", Subject: "s", Text: "t"},
		{To: "a@example.test, b@example.test", Subject: "s", Text: "t"},
		{To: "not an address", Subject: "s", Text: "t"},
		{To: "a@example.test", Subject: "hi\r\nBcc: b@example.test", Text: "t"},
		{To: "a@example.test", Subject: "hi\nX-Injected: 1", Text: "t"},
		{To: "a@example.test", Subject: strings.Repeat("s", 201), Text: "t"},
		{To: "a@example.test", Subject: "", Text: "t"},
	} {
		if err := m.Send(context.Background(), msg); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q / %q: %v, want ErrInvalid", msg.To, msg.Subject, err)
		}
	}
	if _, err := New(Config{Host: srv.Host, From: "a@rempart.test\r\nBcc: x@example.test"}); err == nil {
		t.Error("a from address with a line break was accepted")
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(srv.Messages(t)); n != 0 {
		t.Fatalf("%d message(s) delivered", n)
	}
}

func TestConfigRefused(t *testing.T) {
	for _, cfg := range []Config{
		{From: "a@rempart.test"},
		{Host: "smtp.example", From: "a@rempart.test", Security: "ssl"},
		{Host: "smtp.example", From: "a@rempart.test", Security: Plain, Username: "u", Password: "pw-9f8e7d"},
		{Host: "smtp.example", From: "a@rempart.test", Password: "pw-9f8e7d"},
		{Host: "smtp.example", From: "nope"},
		{Host: "smtp.example", From: "a@rempart.test", Port: 70000},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		} else if cfg.Password != "" && strings.Contains(err.Error(), cfg.Password) {
			t.Errorf("error holds the password: %v", err)
		}
	}
}

// Authentication: over STARTTLS with the right password the relay takes
// the message; a wrong password is a permanent failure, not retried, whose
// error does not hold it; a relay that offers no AUTH gets no password.
func TestAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{User: "rempart", Password: "relay-pass-7"})
	msg := Message{To: "a@example.test", Subject: "s", Text: "t"}
	if err := newMailer(t, srv, Config{Username: "rempart", Password: "relay-pass-7"}).Send(context.Background(), msg); err != nil {
		t.Fatalf("right password: %v", err)
	}
	srv.Wait(t, 1)
	err := newMailer(t, srv, Config{Username: "rempart", Password: "wrong-pass-8"}).Send(context.Background(), msg)
	var e *Error
	if !errors.As(err, &e) || e.Temporary || e.Code != 535 || e.Attempts != 1 {
		t.Fatalf("wrong password: %v, want a permanent 535 after 1 attempt", err)
	}
	if strings.Contains(err.Error(), "wrong-pass-8") {
		t.Errorf("error holds the password: %v", err)
	}
	// Without credentials the relay refuses to relay (554), permanently.
	err = newMailer(t, srv, Config{}).Send(context.Background(), msg)
	if !errors.As(err, &e) || e.Temporary || e.Code != 554 {
		t.Fatalf("no credentials: %v, want a permanent 554", err)
	}

	noAuth := smtptest.Start(t, smtptest.Options{})
	err = newMailer(t, noAuth, Config{Username: "rempart", Password: "relay-pass-7"}).Send(context.Background(), msg)
	if !errors.As(err, &e) || e.Temporary || !strings.Contains(err.Error(), "AUTH") || strings.Contains(err.Error(), "relay-pass-7") {
		t.Fatalf("relay without AUTH: %v, want a permanent refusal before sending the password", err)
	}
	if n := len(noAuth.Messages(t)); n != 0 {
		t.Fatalf("%d message(s) delivered", n)
	}
}
