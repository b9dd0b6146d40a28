package notify_test

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/internal/smtptest"
	"github.com/rempart/rempart/notify"
)

// An invitation for a privileged role is mailed only once a second person
// approves it (IAM-10), through a real Postfix: nothing reaches the relay
// when it is made or when it is rejected, the approver gets no token, and
// the mailed link makes the invitee an auditor.
func TestInvitationMailedAfterApproval(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t, smtptest.Options{})
	id, d, admin := setup(t, srv, notify.Config{})
	second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}

	// The first staff member has nobody to approve them: mailed at once.
	first, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ops@example.test", Role: rempart.RoleSystemAdmin})
	if err != nil || !first.Mailed {
		t.Fatalf("first staff invitation: %+v, %v", first, err)
	}
	held, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "eve@example.test", Role: rempart.RoleAuditor})
	if err != nil || held.Mailed || held.Token != "" || held.Status != rempart.InvitationPendingApproval {
		t.Fatalf("held invitation: %+v, %v", held, err)
	}
	refused, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "mallory@example.test", Role: rempart.RoleSystemAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.RejectInvitation(ctx, second, "", refused.ID, rempart.RoleChangeDecision{}); err != nil {
		t.Fatal(err)
	}
	// The mailer is synchronous and audits every message it hands over:
	// until the approval, only the first one went out.
	mailed := func() []rempart.AuditEntry {
		es, err := d.AuditLog(ctx, audit.Query{Start: 1, Limit: 1000, Action: "invitation.mail"})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	if es := mailed(); len(es) != 1 || es[0].Resource != "staff/invitations/"+first.ID {
		t.Fatalf("mail entries before approval: %+v", es)
	}

	ok, err := id.ApproveInvitation(ctx, second, "", held.ID, rempart.RoleChangeDecision{})
	if err != nil || !ok.Mailed || ok.Token != "" || ok.DecidedBy != "sa_second" {
		t.Fatalf("approval: %+v, %v", ok, err)
	}
	es := mailed()
	if len(es) != 2 || es[1].Resource != "staff/invitations/"+held.ID || es[1].PrincipalID != "sa_second" || es[1].Outcome != rempart.OutcomeSuccess {
		t.Fatalf("mail entries after approval: %+v", es)
	}
	msgs := srv.Wait(t, 2)
	var token string
	for _, msg := range msgs {
		if msg.Header.Get("To") != "<eve@example.test>" {
			continue
		}
		if token != "" {
			t.Fatal("eve got two messages")
		}
		_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		p, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart()
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(p)
		m := linkRE.FindStringSubmatch(string(text))
		if m == nil {
			t.Fatalf("no link in:\n%s", text)
		}
		token = m[1]
	}
	if token == "" {
		t.Fatalf("no message to eve among %d", len(msgs))
	}
	u, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: token, Name: "Eve", Password: password})
	if err != nil || u.Role != rempart.RoleAuditor || u.Email != "eve@example.test" {
		t.Fatalf("accept with the mailed link: %+v, %v", u, err)
	}
}
