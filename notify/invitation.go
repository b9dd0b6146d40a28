package notify

import (
	"bytes"
	"context"
	"embed"
	"errors"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/rempart/rempart/identity"
)

//go:embed templates
var templateFS embed.FS

var (
	invitationText = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/invitation.txt"))
	invitationHTML = htmltemplate.Must(htmltemplate.ParseFS(templateFS, "templates/invitation.html"))
)

// Invitations mails people their invitation links (IAM-1): it is
// identity's InvitationMailer. The link is the console's /join page with
// the one-time token in the fragment, which browsers send to no server and
// put in no Referer.
type Invitations struct {
	Mailer *Mailer
	// ConsoleURL is the console's public address, such as
	// https://rempart.example.com.
	ConsoleURL string
}

// NewInvitations checks the console's public URL.
func NewInvitations(m *Mailer, consoleURL string) (*Invitations, error) {
	u, err := url.Parse(consoleURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("mail: the console's public URL must be an absolute http(s) URL such as https://rempart.example.com")
	}
	return &Invitations{Mailer: m, ConsoleURL: strings.TrimSuffix(consoleURL, "/")}, nil
}

type invitationData struct {
	Where, Role, Link, Expires string
}

// MailInvitation sends the invitation's link to its invitee.
func (i *Invitations) MailInvitation(ctx context.Context, m identity.InvitationMail) error {
	d := invitationData{Where: "the vendor's staff", Role: m.Role, Link: i.ConsoleURL + "/join#" + m.Token,
		Expires: m.ExpiresAt.UTC().Format(time.RFC1123)}
	if m.TenantID != "" {
		d.Where = "the organisation " + strings.TrimSpace(m.TenantName)
	}
	var text, html bytes.Buffer
	if err := invitationText.Execute(&text, d); err != nil {
		return err
	}
	if err := invitationHTML.Execute(&html, d); err != nil {
		return err
	}
	return i.Mailer.Send(ctx, Message{To: m.To, Subject: "Your invitation to rempart", Text: text.String(), HTML: html.String()})
}
