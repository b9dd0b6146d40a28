package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	texttemplate "text/template"
	"time"

	"github.com/rempart/rempart"
)

var reminderText = texttemplate.Must(texttemplate.ParseFS(templateFS, "templates/review-reminder.txt"))

// ReviewReminders mails the reviewers of an overdue access review campaign
// (IAM-9): it is the reviews service's Notifier.
type ReviewReminders struct {
	Mailer *Mailer
	// ConsoleURL is the console's public address, as for invitations.
	ConsoleURL string
	// Reviewers returns the addresses of those who decide a campaign of
	// tenant ("" for staff).
	Reviewers func(ctx context.Context, tenant string) ([]string, error)
}

type reminderData struct {
	Name, Due, Link, Where string
	Pending, Accounts      int
}

// RemindReviewers mails each reviewer of c a reminder with the campaign's
// link. It tries every reviewer and reports every failure.
func (r *ReviewReminders) RemindReviewers(ctx context.Context, c rempart.Campaign, pending int) error {
	to, err := r.Reviewers(ctx, c.TenantID)
	if err != nil {
		return fmt.Errorf("reviewers of %s: %w", c.ID, err)
	}
	if len(to) == 0 {
		return fmt.Errorf("campaign %s has no reviewer to remind", c.ID)
	}
	d := reminderData{Name: c.Name, Due: c.DueAt.UTC().Format(time.RFC1123), Pending: pending, Accounts: c.Accounts,
		Link: r.ConsoleURL + "/staff/access-reviews/" + c.ID, Where: "the vendor's staff"}
	if c.TenantID != "" {
		d.Link, d.Where = r.ConsoleURL+"/tenants/"+c.TenantID+"/access-reviews/"+c.ID, "the organisation "+c.TenantID
	}
	var text bytes.Buffer
	if err := reminderText.Execute(&text, d); err != nil {
		return err
	}
	var errs []error
	for _, addr := range to {
		if err := r.Mailer.Send(ctx, Message{To: addr, Subject: "An access review is overdue", Text: text.String()}); err != nil {
			errs = append(errs, fmt.Errorf("remind %s: %w", addr, err))
		}
	}
	return errors.Join(errs...)
}
