package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	texttemplate "text/template"
	"time"

	"github.com/rempart/rempart/identity"
)

var (
	noticeText = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/account-notice.txt"))
	signInText = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/sign-in-notice.txt"))
	expiryText = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/password-expiry.txt"))
)

// AccountNotices mails people when their password or second factors
// change (ASVS 2.2.3, 2.5.5), when they sign in from a network and browser
// not seen before (ASVS 3.x), and when their password expires soon
// (IAM-3): identity's AccountNotifier. The message holds no secret and no
// link, so that it cannot be used for phishing or to take over the
// account.
type AccountNotices struct {
	Mailer *Mailer
	// Contact, when set, is the address a notice tells people to write
	// to when what it reports was not them: the security team's.
	Contact string
}

// NewAccountNotices returns the notices of m naming contact ("" for
// none), which must be one plain email address.
func NewAccountNotices(m *Mailer, contact string) (*AccountNotices, error) {
	if contact != "" {
		a, err := parseAddress(contact)
		if err != nil || a.Name != "" {
			return nil, fmt.Errorf("%w: the contact must be one plain email address", ErrInvalid)
		}
		contact = a.Address
	}
	return &AccountNotices{Mailer: m, Contact: contact}, nil
}

type noticeData struct {
	Name, What, When, From, Agent, Expires, Days, Contact string
}

// NotifyAccount sends one notice. A failure to send is an
// *identity.DeliveryError, which names neither the address nor the
// message, wrapping the mailer's error.
func (a *AccountNotices) NotifyAccount(ctx context.Context, n identity.AccountNotice) error {
	d := noticeData{Name: n.Name, What: n.What, When: n.At.UTC().Format(time.RFC1123), From: "unknown", Agent: n.Agent, Contact: a.Contact}
	if ip, err := netip.ParseAddr(n.IP); err == nil {
		d.From = ip.Unmap().WithZone("").String()
	}
	tmpl, subject := noticeText, "A change to how you sign in to rempart"
	switch n.Kind {
	case identity.NoticeSignIn:
		tmpl, subject = signInText, "A new sign-in to your rempart account"
	case identity.NoticePasswordExpiry:
		tmpl, subject = expiryText, "Your rempart password expires soon"
		d.Expires = n.Expires.UTC().Format("Monday 2 January 2006 at 15:04 MST")
		days := int((n.Expires.Sub(n.At) + 24*time.Hour - 1) / (24 * time.Hour))
		d.Days = fmt.Sprintf("%d days", days)
		if days <= 1 {
			d.Days = "1 day"
		}
	}
	var text bytes.Buffer
	if err := tmpl.Execute(&text, d); err != nil {
		return err
	}
	err := a.Mailer.Send(ctx, Message{To: n.To, Subject: subject, Text: text.String()})
	if err == nil {
		return nil
	}
	var me *Error
	switch {
	case errors.As(err, &me):
		return fmt.Errorf("%w: %w", &identity.DeliveryError{Permanent: !me.Temporary, Code: me.Code}, err)
	case errors.Is(err, ErrInvalid):
		return fmt.Errorf("%w: %w", &identity.DeliveryError{Permanent: true}, err)
	}
	return err
}
