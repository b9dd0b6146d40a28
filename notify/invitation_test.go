package notify_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/smtptest"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/notify"
	"github.com/rempart/rempart/vault"
)

const password = "Correct-h0rse-battery"

var dbDirs = map[*db.DB]string{}

func dbDir(t *testing.T, d *db.DB) string { return dbDirs[d] }

func setup(t *testing.T, srv *smtptest.Server, cfg notify.Config) (*identity.Service, *db.DB, rempart.Caller) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(dir, "rempart.db"), Clock: rempart.SystemClock{}})
	dbDirs[d] = dir
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	cfg.Host, cfg.Port, cfg.RootCAs, cfg.From = srv.Host, srv.Port, srv.RootCAs, "rempart <noreply@rempart.test>"
	m, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := notify.NewInvitations(m, "https://console.rempart.test/")
	if err != nil {
		t.Fatal(err)
	}
	id := identity.New(d, rempart.SystemClock{}, identity.Config{Mailer: inv})
	tok, err := id.EnsureBootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := id.Bootstrap(ctx, rempart.Caller{}, tok)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := id.Authenticate(ctx, rempart.Caller{}, b.Key.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return id, d, admin
}

var linkRE = regexp.MustCompile(`https://console\.rempart\.test/join#(ri_[A-Za-z0-9_\-.]+)`)

// An invitation goes to the invitee through a real Postfix, with a link to
// the console's /join page carrying the token in its fragment; the inviter
// does not get the token; the link works once; the mailing is audited
// (IAM-1, AUD-1).
func TestInvitationMailed(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t, smtptest.Options{})
	id, d, admin := setup(t, srv, notify.Config{})
	created, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "grace@example.test", Role: rempart.RoleAuditor})
	if err != nil {
		t.Fatal(err)
	}
	if created.Token != "" || !created.Mailed {
		t.Fatalf("inviter got token %q, mailed %v: want no token, mailed", created.Token, created.Mailed)
	}
	msg := srv.Wait(t, 1)[0]
	if to := msg.Header.Get("To"); to != "<grace@example.test>" {
		t.Errorf("to %q", to)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	r := multipart.NewReader(msg.Body, params["boundary"])
	var bodies []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		bodies = append(bodies, string(b))
	}
	if len(bodies) != 2 {
		t.Fatalf("%d parts, want text and HTML", len(bodies))
	}
	text := linkRE.FindStringSubmatch(bodies[0])
	html := linkRE.FindStringSubmatch(bodies[1])
	if text == nil || html == nil || text[1] != html[1] {
		t.Fatalf("links: text %v html %v", text, html)
	}
	if !strings.Contains(bodies[0], `role "auditor"`) || !strings.Contains(bodies[1], "<strong>auditor</strong>") {
		t.Errorf("the role is not in the message:\n%s", bodies)
	}
	token := text[1]
	u, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: token, Name: "Grace", Password: password})
	if err != nil {
		t.Fatalf("accept with the mailed link: %v", err)
	}
	if u.Email != "grace@example.test" || u.Role != rempart.RoleAuditor {
		t.Errorf("user %+v", u)
	}
	if _, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: token, Name: "Mallory", Password: password}); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("second use of the link: %v, want EUNAUTHORIZED", err)
	}
	es, err := d.AuditLog(ctx, audit.Query{Start: 1, Limit: 1000, Action: "invitation.mail"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Outcome != rempart.OutcomeSuccess || es[0].Resource != "staff/invitations/"+created.ID {
		t.Errorf("invitation.mail entries: %+v", es)
	}
	noSecret(t, d, token)
}

// noSecret checks that the token is in no audit entry and nowhere in the
// database file.
func noSecret(t *testing.T, d *db.DB, token string) {
	t.Helper()
	all, err := d.AuditLog(context.Background(), audit.Query{Start: 1, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	secret := token[strings.LastIndexAny(token, "_.")+1:]
	for _, e := range all {
		if strings.Contains(fmt.Sprintf("%+v", e), secret) {
			t.Errorf("audit entry holds the token: %+v", e)
		}
	}
	d.Close()
	for _, f := range []string{"rempart.db", "rempart.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dbDir(t, d), f))
		if f == "rempart.db" && (err != nil || len(b) == 0) {
			t.Fatalf("read the database file: %v", err)
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("%s holds the token in clear", f)
		}
	}
}

// A message the relay refuses withdraws the invitation at once, tells the
// inviter why, and is audited as a failure; no link stays valid.
func TestInvitationNotMailedIsWithdrawn(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t, smtptest.Options{})
	id, d, admin := setup(t, srv, notify.Config{})
	_, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: smtptest.Rejected, Role: rempart.RoleAuditor})
	if rempart.ErrorCode(err) != rempart.EUNAVAILABLE || !strings.Contains(rempart.ErrorMessage(err), "550") ||
		!strings.Contains(rempart.ErrorMessage(err), "withdrawn") {
		t.Fatalf("invite a refused address: %v, want EUNAVAILABLE naming the 550 and the withdrawal", err)
	}
	invs, err := id.Invitations(ctx, admin, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != 1 || invs[0].RevokedAt == nil {
		t.Fatalf("invitations after a failed mailing: %+v, want one withdrawn", invs)
	}
	es, err := d.AuditLog(ctx, audit.Query{Start: 1, Limit: 1000, Action: "invitation.mail"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Outcome != rempart.OutcomeFailure || !strings.Contains(es[0].Reason, "withdrawn") {
		t.Errorf("invitation.mail entries: %+v", es)
	}
	// The address can be invited again once the problem is fixed.
	if _, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "grace@example.test", Role: rempart.RoleAuditor}); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 1)
}

// A tenant's invitation names the tenant in the message.
func TestTenantInvitationMailed(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t, smtptest.Options{})
	id, d, admin := setup(t, srv, notify.Config{})
	root, err := keys.CreateLocalFile(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(d, keys.NewKeyring(root, 100), rempart.SystemClock{}, vault.Config{})
	ten, err := v.CreateTenant(ctx, admin, "Acme Widgets")
	if err != nil {
		t.Fatal(err)
	}
	created, err := id.Invite(ctx, admin, ten.ID, rempart.InvitationCreate{Email: "ann@example.test", Role: rempart.RoleWriter})
	if err != nil || !created.Mailed || created.Token != "" {
		t.Fatalf("invite: %+v, %v", created, err)
	}
	msg := srv.Wait(t, 1)[0]
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	p, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart() // the text part, decoded
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(p)
	if !strings.Contains(string(text), "the organisation Acme Widgets") {
		t.Errorf("the message does not name the tenant:\n%s", text)
	}
	es, err := d.AuditLog(ctx, audit.Query{Start: 1, Limit: 1000, Action: "invitation.mail"})
	if err != nil || len(es) != 1 || es[0].TenantID != ten.ID || es[0].Outcome != rempart.OutcomeSuccess {
		t.Errorf("invitation.mail entries: %+v, %v", es, err)
	}
}
