package notify

import (
	"bytes"
	"context"
	texttemplate "text/template"
	"time"

	"github.com/rempart/rempart/identity"
)

var noticeText = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/account-notice.txt"))

// AccountNotices mails people when their password or second factors change
// (ASVS 2.2.3, 2.5.5): identity's AccountNotifier. The message holds no
// secret and no link, so that it cannot be used for phishing or to take
// over the account.
type AccountNotices struct{ Mailer *Mailer }

// NotifyAccount sends one notice.
func (a *AccountNotices) NotifyAccount(ctx context.Context, n identity.AccountNotice) error {
	d := struct{ Name, What, When, From string }{Name: n.Name, What: n.What, When: n.At.UTC().Format(time.RFC1123), From: n.IP}
	if d.From == "" {
		d.From = "unknown"
	}
	var text bytes.Buffer
	if err := noticeText.Execute(&text, d); err != nil {
		return err
	}
	return a.Mailer.Send(ctx, Message{To: n.To, Subject: "A change to how you sign in to rempart", Text: text.String()})
}
