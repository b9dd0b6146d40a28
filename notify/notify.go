// Package notify sends rempart's mail: the invitation links of people
// (IAM-1). It speaks SMTP to the deployment's relay with the standard
// library's net/smtp (ADR 0009):
//
//   - STARTTLS is required by default, with the server's certificate
//     verified; plain SMTP only when the configuration says so explicitly
//     (a relay on the same host or network), and implicit TLS (port 465)
//     when asked;
//   - authentication (PLAIN) is optional, and only ever over TLS (or to
//     localhost, as net/smtp enforces);
//   - every attempt has a deadline; a temporary failure (a 4xx answer, a
//     network error) is retried a bounded number of times with a doubling
//     pause, a permanent one (5xx, a certificate that does not verify, no
//     STARTTLS) is not;
//   - addresses and subjects are validated before anything is sent, so that
//     no input can add a header or a recipient;
//   - errors name the server's answer, never the password or the message.
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Security modes of the connection to the relay.
const (
	StartTLS = "starttls" // default: plain connection upgraded with STARTTLS, required
	TLS      = "tls"      // implicit TLS from the first byte (port 465)
	Plain    = "none"     // no encryption: only for a trusted local relay
)

// Config is the relay and the sender.
type Config struct {
	Host string
	Port int // default 587 (465 with TLS, 25 with none)
	// Security is StartTLS (default), TLS or Plain.
	Security string
	// Username and Password authenticate with PLAIN when Username is set.
	Username, Password string
	// From is the sender, a plain address or "Name <address>".
	From string
	// HelloName is the name sent with EHLO; "localhost" when empty.
	HelloName string
	// RootCAs verifies the relay's certificate; the system's when nil.
	RootCAs *x509.CertPool
	// Timeout bounds each attempt (connect to QUIT); 15s when zero.
	Timeout time.Duration
	// Attempts is how many times a temporary failure is tried; 3 when
	// zero. Backoff is the first pause between attempts, doubled after
	// each; 1s when zero.
	Attempts int
	Backoff  time.Duration
}

// Mailer sends messages through one relay. It is safe for concurrent use.
type Mailer struct {
	cfg  Config
	from *mail.Address
	// sleep waits between attempts (tests shorten it).
	sleep func(context.Context, time.Duration) error
}

// New validates cfg and returns its mailer.
func New(cfg Config) (*Mailer, error) {
	if cfg.Security == "" {
		cfg.Security = StartTLS
	}
	switch cfg.Security {
	case StartTLS, TLS, Plain:
	default:
		return nil, fmt.Errorf("mail: security must be %s, %s or %s", StartTLS, TLS, Plain)
	}
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, " \r\n/") {
		return nil, errors.New("mail: a relay host name is required")
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{StartTLS: 587, TLS: 465, Plain: 25}[cfg.Security]
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, errors.New("mail: the port must be between 1 and 65535")
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("mail: a password needs a user name")
	}
	if cfg.Username != "" && cfg.Security == Plain {
		return nil, errors.New("mail: authentication needs TLS (security starttls or tls)")
	}
	from, err := parseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: from: %w", err)
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if strings.ContainsAny(cfg.HelloName, " \r\n") {
		return nil, errors.New("mail: the hello name must be a host name")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Attempts > 10 {
		return nil, errors.New("mail: at most 10 attempts")
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	return &Mailer{cfg: cfg, from: from, sleep: sleep}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Message is one message to one recipient, with a plain text body and an
// HTML alternative (optional).
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Error is a failure to send: the last answer of the relay (or the network
// error), whether it was temporary, and how many attempts were made. Its
// text never holds the password or the message.
type Error struct {
	Code      int // the SMTP reply code, 0 for a network or TLS failure
	Temporary bool
	Attempts  int
	err       error
}

func (e *Error) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return fmt.Sprintf("mail: %s failure after %d attempt(s): %v", kind, e.Attempts, e.err)
}

func (e *Error) Unwrap() error { return e.err }

// ErrInvalid is the error of a message refused before sending.
var ErrInvalid = errors.New("mail: invalid message")

// maxSubject bounds a subject line (RFC 5322 recommends 78 characters a line).
const maxSubject = 200

// parseAddress accepts one address, plain or with a display name, and
// nothing that could end a header line.
func parseAddress(s string) (*mail.Address, error) {
	if s == "" || len(s) > 320 || strings.ContainsAny(s, "\r\n\x00") {
		return nil, fmt.Errorf("%w: address must be one line", ErrInvalid)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not an email address", ErrInvalid, s)
	}
	if strings.ContainsAny(a.Address, "\r\n\x00<>,; ") || !strings.Contains(a.Address, "@") {
		return nil, fmt.Errorf("%w: %q is not an email address", ErrInvalid, s)
	}
	return a, nil
}

// compose validates m and renders it as an RFC 5322 message.
func (m *Mailer) compose(msg Message) (to *mail.Address, raw []byte, err error) {
	if to, err = parseAddress(msg.To); err != nil {
		return nil, nil, err
	}
	if msg.Subject == "" || len(msg.Subject) > maxSubject || !utf8.ValidString(msg.Subject) ||
		strings.ContainsFunc(msg.Subject, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, nil, fmt.Errorf("%w: the subject must be 1 to %d characters on one line", ErrInvalid, maxSubject)
	}
	if msg.Text == "" || !utf8.ValidString(msg.Text) || !utf8.ValidString(msg.HTML) {
		return nil, nil, fmt.Errorf("%w: a message needs a UTF-8 text body", ErrInvalid)
	}
	id := make([]byte, 16)
	rand.Read(id)
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", m.from.String())
	h("To", to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", msg.Subject))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain(m.from.Address)+">")
	h("MIME-Version", "1.0")
	h("Auto-Submitted", "auto-generated")
	if msg.HTML == "" {
		h("Content-Type", `text/plain; charset="utf-8"`)
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeQP(&b, msg.Text)
		return to, b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	h("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", msg.Text}, {"text/html", msg.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + `; charset="utf-8"`},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, nil, err
		}
		writeQP(w, part.body)
	}
	if err := mw.Close(); err != nil {
		return nil, nil, err
	}
	return to, b.Bytes(), nil
}

func writeQP(w interface{ Write([]byte) (int, error) }, s string) {
	q := quotedprintable.NewWriter(w)
	q.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")))
	q.Close()
}

func domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

// Send sends msg, retrying temporary failures. A message that fails
// validation is refused with an error wrapping ErrInvalid before any
// connection; a failure to deliver it to the relay is an *Error.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	to, raw, err := m.compose(msg)
	if err != nil {
		return err
	}
	wait := m.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := m.attempt(ctx, to.Address, raw)
		if err == nil {
			return nil
		}
		e := classify(err)
		e.Attempts = attempt
		if !e.Temporary || attempt >= m.cfg.Attempts || ctx.Err() != nil {
			return e
		}
		if m.sleep(ctx, wait) != nil {
			return e
		}
		wait *= 2
	}
}

// classify tells temporary failures (4xx replies, network errors) from
// permanent ones (5xx replies, TLS and policy failures).
func classify(err error) *Error {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return &Error{Code: tp.Code, Temporary: tp.Code >= 400 && tp.Code < 500, err: err}
	}
	var pe *policyError
	if errors.As(err, &pe) {
		return &Error{err: err}
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return &Error{err: err}
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Temporary: true, err: err}
	}
	return &Error{Temporary: true, err: err}
}

// policyError is a refusal of ours (no STARTTLS offered): permanent.
type policyError struct{ msg string }

func (e *policyError) Error() string { return e.msg }

// attempt makes one SMTP transaction.
func (m *Mailer) attempt(ctx context.Context, to string, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	tlsConf := &tls.Config{ServerName: m.cfg.Host, RootCAs: m.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	var conn net.Conn
	var err error
	if m.cfg.Security == TLS {
		conn, err = (&tls.Dialer{Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(m.cfg.HelloName); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if m.cfg.Security == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &policyError{"the relay " + addr + " offers no STARTTLS, which is required (set security none only for a trusted local relay)"}
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.cfg.Username != "" {
		// net/smtp sends the credentials with the AUTH command itself:
		// only to a relay that offers PLAIN. PlainAuth also refuses to
		// send them without TLS (except to localhost).
		if ok, mechs := c.Extension("AUTH"); !ok || !slices.Contains(strings.Fields(strings.ToUpper(mechs)), "PLAIN") {
			return &policyError{"the relay " + addr + " does not offer AUTH PLAIN; the password was not sent"}
		}
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)); err != nil {
			var tp *textproto.Error
			if errors.As(err, &tp) {
				return fmt.Errorf("authentication as %q: %w", m.cfg.Username, err)
			}
			return &policyError{fmt.Sprintf("authentication as %q refused before sending the password: %v", m.cfg.Username, err)}
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}
