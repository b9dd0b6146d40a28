package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func mailSettings(t *testing.T, args ...string) *mailOptions {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := newOptions(fs)
	mo := addMailOptions(o, o.add("public-url", "", "the console's public address"))
	if err := o.parse(args); err != nil {
		t.Fatal(err)
	}
	return mo
}

// Without smtp-host no mail is sent (the inviter gets the link); with it,
// the relay settings are checked at start, and errors never repeat the
// password (IAM-1, ADR 0009).
func TestMailSettings(t *testing.T) {
	if m, err := mailSettings(t).mailer(); err != nil || m != nil {
		t.Fatalf("no smtp-host: %v, %v, want no mailer", m, err)
	}
	t.Setenv("REMPART_SMTP_PASSWORD", "relay-pw-31337")
	for _, args := range [][]string{
		{},                                 // a password without a host
		{"-smtp-host", "smtp.example.com"}, // no sender, no public URL
		{"-smtp-host", "smtp.example.com", "-mail-from", "noreply@example.com", "-smtp-user", "rempart"},                           // no public URL
		{"-smtp-host", "smtp.example.com", "-mail-from", "noreply@example.com", "-public-url", "ftp://x", "-smtp-user", "rempart"}, // not http(s)
		{"-smtp-host", "smtp.example.com", "-mail-from", "noreply@example.com", "-public-url", "https://r.example.com", "-smtp-security", "none", "-smtp-user", "rempart"},
		{"-smtp-host", "smtp.example.com", "-mail-from", "noreply@example.com", "-public-url", "https://r.example.com", "-smtp-port", "x", "-smtp-user", "rempart"},
	} {
		_, err := mailSettings(t, args...).mailer()
		if err == nil {
			t.Errorf("%q accepted", args)
		} else if strings.Contains(err.Error(), "relay-pw-31337") {
			t.Errorf("%q: error holds the password: %v", args, err)
		}
	}
	m, err := mailSettings(t, "-smtp-host", "smtp.example.com", "-mail-from", "rempart <noreply@example.com>",
		"-public-url", "https://r.example.com", "-smtp-user", "rempart").mailer()
	if err != nil || m == nil {
		t.Fatalf("valid settings: %v", err)
	}
	// The notice contact: one plain address, and only with a relay.
	if _, err := mailSettings(t, "-notice-contact", "security@example.com").mailer(); err == nil {
		t.Error("notice-contact without smtp-host accepted")
	}
	for _, bad := range []string{"security", "Security <security@example.com>", "a@example.com, b@example.com", "security@example.com\r\nBcc: x@example.com"} {
		if _, err := mailSettings(t, "-notice-contact", bad).notices(m.Mailer); err == nil {
			t.Errorf("notice-contact %q accepted", bad)
		}
	}
	if n, err := mailSettings(t, "-notice-contact", "security@example.com").notices(m.Mailer); err != nil || n.Contact != "security@example.com" {
		t.Errorf("notice-contact security@example.com: %+v, %v", n, err)
	}
}
