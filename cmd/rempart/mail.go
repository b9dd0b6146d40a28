package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rempart/rempart/notify"
)

// mailOptions are the settings of the SMTP relay that mails invitation
// links (IAM-1; ADR 0009) and account notices (see notices.go). Without
// smtp-host the server sends no mail: an invitation's link is shown once
// to the inviter instead, and no notice is queued.
type mailOptions struct {
	host, port, security, user, password, caFile, from, publicURL *string
	contact                                                       *string
}

func addMailOptions(o *options, publicURL *string) *mailOptions {
	return &mailOptions{
		host:      o.add("smtp-host", "", `SMTP relay that mails invitation links and account notices ("" sends no mail: the inviter gets the link to pass on, and people get no notice)`),
		port:      o.add("smtp-port", "", "SMTP relay port (default 587, 465 with smtp-security tls, 25 with none)"),
		security:  o.add("smtp-security", notify.StartTLS, "starttls (required, the default), tls (implicit, port 465) or none (only for a trusted local relay)"),
		user:      o.add("smtp-user", "", "user name for SMTP authentication (PLAIN over TLS); none when empty"),
		password:  o.add("smtp-password", "", "password for SMTP authentication (prefer the environment or the config file to a flag); never logged"),
		caFile:    o.add("smtp-ca-file", "", "PEM file of the CA that signed the relay's certificate (default: the system's roots)"),
		from:      o.add("mail-from", "", `sender of the mail, such as "rempart <noreply@example.com>"; required with smtp-host`),
		publicURL: publicURL, // required with smtp-host: links in mail lead there
		contact:   o.add("notice-contact", "", `address that account notices tell people to write to when a sign-in or a change was not theirs, such as security@example.com ("" names none: they are told to tell their administrator)`),
	}
}

// mailer returns the invitation mailer the settings describe, or nil when
// no relay is set.
func (mo *mailOptions) mailer() (*notify.Invitations, error) {
	if *mo.host == "" {
		if *mo.user != "" || *mo.password != "" || *mo.contact != "" {
			return nil, errors.New("smtp-user, smtp-password and notice-contact need smtp-host")
		}
		return nil, nil
	}
	cfg := notify.Config{Host: *mo.host, Security: strings.ToLower(*mo.security), Username: *mo.user, Password: *mo.password, From: *mo.from}
	if *mo.port != "" {
		p, err := strconv.Atoi(*mo.port)
		if err != nil {
			return nil, fmt.Errorf("smtp-port: %q is not a port number", *mo.port)
		}
		cfg.Port = p
	}
	if *mo.caFile != "" {
		pem, err := os.ReadFile(*mo.caFile)
		if err != nil {
			return nil, fmt.Errorf("smtp-ca-file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp-ca-file: %s holds no PEM certificate", *mo.caFile)
		}
	}
	m, err := notify.New(cfg)
	if err != nil {
		return nil, err
	}
	inv, err := notify.NewInvitations(m, *mo.publicURL)
	if err != nil {
		return nil, fmt.Errorf("public-url: %w", err)
	}
	return inv, nil
}

// notices returns the account notices of m, naming the notice contact.
func (mo *mailOptions) notices(m *notify.Mailer) (*notify.AccountNotices, error) {
	n, err := notify.NewAccountNotices(m, *mo.contact)
	if err != nil {
		return nil, fmt.Errorf("notice-contact: %q: %w", *mo.contact, err)
	}
	return n, nil
}
