package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/web"
)

// fakePeople stands in for identity's people methods, with the same
// authorisation shape as the other fakes.
type fakePeople struct {
	mu          sync.Mutex
	mail        bool // the deployment mails invitation links
	users       []rempart.User
	invitations []rempart.Invitation
	accepted    []rempart.InvitationAccept
	revoked     []string // session and personal key IDs
	changed     []rempart.PasswordChange
	keys        []rempart.PersonalKey
}

const fakeToken = "ri_inv1.s3cretS3cretS3cret"

func newFakePeople() *fakePeople {
	last := epoch.Add(2 * time.Hour)
	exp := epoch.Add(90 * 24 * time.Hour)
	return &fakePeople{
		users: []rempart.User{
			{ID: "usr_admin", Email: "ada@example.com", Name: "Ada Admin", Role: rempart.RoleSystemAdmin, Status: rempart.UserActive, CreatedAt: epoch, LastLoginAt: &last, PasswordChangedAt: &epoch, PasswordExpiresAt: &exp},
			{ID: "usr_tad", TenantID: "ten_acme", Email: "tom@example.com", Name: "Tom Tenant", Role: rempart.RoleAdmin, Status: rempart.UserActive, CreatedAt: epoch, PasswordChangedAt: &epoch, PasswordExpiresAt: &exp},
			{ID: "usr_sue", TenantID: "ten_acme", Email: "sue@example.com", Name: "Sue Suspended", Role: rempart.RoleReader, Status: rempart.UserSuspended, CreatedAt: epoch},
		},
		invitations: []rempart.Invitation{
			{ID: "inv_old", TenantID: "ten_acme", Email: "old@example.com", Role: rempart.RoleWriter, Status: rempart.InvitationRevoked, Approval: rempart.ApprovalNotRequired,
				InvitedBy: "usr_tad", CreatedAt: epoch, ExpiresAt: epoch.Add(72 * time.Hour), RevokedAt: &epoch},
			{ID: "inv_pending", TenantID: "ten_acme", Email: "new@example.com", Role: rempart.RoleWriter, Status: rempart.InvitationOpen, Approval: rempart.ApprovalNotRequired,
				InvitedBy: "usr_tad", CreatedAt: epoch, ExpiresAt: epoch.Add(72 * time.Hour)},
			// Held for a second person (IAM-10): Tom may decide on the first,
			// Ada not on the second, which she made.
			{ID: "inv_boss", TenantID: "ten_acme", Email: "boss@example.com", Role: rempart.RoleAdmin, Status: rempart.InvitationPendingApproval, Approval: rempart.ApprovalPending,
				InvitedBy: "usr_admin", CreatedAt: epoch, ExpiresAt: epoch.Add(72 * time.Hour)},
			{ID: "inv_ops", Email: "ops@example.com", Role: rempart.RoleAuditor, Status: rempart.InvitationPendingApproval, Approval: rempart.ApprovalPending,
				InvitedBy: "usr_admin", CreatedAt: epoch, ExpiresAt: epoch.Add(72 * time.Hour)},
		},
	}
}

func mayPeople(c rempart.Caller, tenant string) error {
	if tenant == "" {
		return system(c)
	}
	return mayManage(c, tenant)
}

func (f *fakePeople) Invite(ctx context.Context, c rempart.Caller, tenant string, in rempart.InvitationCreate) (rempart.InvitationCreated, error) {
	if err := mayPeople(c, tenant); err != nil {
		return rempart.InvitationCreated{}, err
	}
	if !strings.Contains(in.Email, "@") {
		return rempart.InvitationCreated{}, rempart.Errorf(rempart.EINVALID, "email must be a plain address such as name@example.com.")
	}
	if in.Email == "refused@example.com" {
		return rempart.InvitationCreated{}, rempart.Errorf(rempart.EUNAVAILABLE, "The invitation could not be mailed to refused@example.com and has been withdrawn: 550 no such user.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := rempart.Invitation{ID: "inv1", TenantID: tenant, Email: in.Email, Role: in.Role, Status: rempart.InvitationOpen, Approval: rempart.ApprovalNotRequired,
		InvitedBy: c.Principal.ID, CreatedAt: epoch, ExpiresAt: epoch.Add(72 * time.Hour)}
	if guard.Privileged(in.Role) {
		inv.Status, inv.Approval = rempart.InvitationPendingApproval, rempart.ApprovalPending
	}
	f.invitations = append(f.invitations, inv)
	if inv.Approval == rempart.ApprovalPending {
		return rempart.InvitationCreated{Invitation: inv}, nil
	}
	if f.mail {
		return rempart.InvitationCreated{Invitation: inv, Mailed: true}, nil
	}
	return rempart.InvitationCreated{Invitation: inv, Token: fakeToken}, nil
}

func (f *fakePeople) Invitations(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Invitation, error) {
	if err := mayPeople(c, tenant); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rempart.Invitation
	for _, inv := range f.invitations {
		if inv.TenantID == tenant {
			out = append(out, inv)
		}
	}
	return out, nil
}

func (f *fakePeople) RevokeInvitation(ctx context.Context, c rempart.Caller, tenant, id string) error {
	if err := mayPeople(c, tenant); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, inv := range f.invitations {
		if inv.ID == id && inv.TenantID == tenant && inv.RevokedAt == nil {
			f.invitations[i].RevokedAt = &epoch
			return nil
		}
	}
	return rempart.Errorf(rempart.ENOTFOUND, "No pending invitation with this ID.")
}

// decide is the fake's approval and rejection: the rules of the service
// (never the inviter, only one pending approval).
func (f *fakePeople) decide(c rempart.Caller, tenant, id, approval string) (rempart.Invitation, error) {
	if err := mayPeople(c, tenant); err != nil {
		return rempart.Invitation{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, inv := range f.invitations {
		if inv.ID != id || inv.TenantID != tenant {
			continue
		}
		switch {
		case inv.Status != rempart.InvitationPendingApproval:
			return rempart.Invitation{}, rempart.Errorf(rempart.ECONFLICT, "This invitation is %s: there is nothing to decide.", inv.Status)
		case inv.InvitedBy == c.Principal.ID:
			return rempart.Invitation{}, rempart.Errorf(rempart.EFORBIDDEN, "Another person must decide on an invitation you made.")
		}
		inv.Approval, inv.DecidedBy, inv.DecidedAt, inv.Status = approval, c.Principal.ID, &epoch, rempart.InvitationOpen
		if approval == rempart.ApprovalRejected {
			inv.Status = rempart.InvitationRejected
		}
		f.invitations[i] = inv
		return inv, nil
	}
	return rempart.Invitation{}, rempart.Errorf(rempart.ENOTFOUND, "No invitation with this ID.")
}

func (f *fakePeople) ApproveInvitation(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.InvitationCreated, error) {
	inv, err := f.decide(c, tenant, id, rempart.ApprovalApproved)
	if err != nil {
		return rempart.InvitationCreated{}, err
	}
	if f.mail {
		return rempart.InvitationCreated{Invitation: inv, Mailed: true}, nil
	}
	return rempart.InvitationCreated{Invitation: inv, Token: fakeToken}, nil
}

func (f *fakePeople) RejectInvitation(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.Invitation, error) {
	return f.decide(c, tenant, id, rempart.ApprovalRejected)
}

func (f *fakePeople) Users(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.User, error) {
	if err := mayPeople(c, tenant); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rempart.User
	for _, u := range f.users {
		if u.TenantID == tenant {
			out = append(out, u)
		}
	}
	return out, nil
}

func (f *fakePeople) User(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.User, error) {
	users, err := f.Users(ctx, c, tenant)
	for _, u := range users {
		if u.ID == id {
			return u, nil
		}
	}
	if err == nil {
		err = rempart.Errorf(rempart.ENOTFOUND, "User not found.")
	}
	return rempart.User{}, err
}

func (f *fakePeople) SetUserStatus(ctx context.Context, c rempart.Caller, tenant, id, status string) error {
	if err := mayPeople(c, tenant); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, u := range f.users {
		if u.ID == id && u.TenantID == tenant {
			f.users[i].Status = status
			return nil
		}
	}
	return rempart.Errorf(rempart.ENOTFOUND, "No such user.")
}

func (f *fakePeople) RevokeAccess(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RevocationRequest) (rempart.Revocation, error) {
	if err := mayPeople(c, tenant); err != nil {
		return rempart.Revocation{}, err
	}
	if in.Kind != rempart.RevokeOffboard && in.Kind != rempart.RevokeCompromise || len(in.Reason) < 10 {
		return rempart.Revocation{}, rempart.Errorf(rempart.EINVALID, "reason must be 10 to 500 characters on one line.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, u := range f.users {
		if u.ID == id && u.TenantID == tenant {
			f.users[i].Status = rempart.UserSuspended
			return rempart.Revocation{UserID: id, Kind: in.Kind, Reason: in.Reason, At: epoch, Sessions: 3, Factors: 1, RecoveryCodes: 9, PersonalKeys: 2, PasswordCleared: in.Kind == rempart.RevokeOffboard}, nil
		}
	}
	return rempart.Revocation{}, rempart.Errorf(rempart.ENOTFOUND, "No such user.")
}

func (f *fakePeople) AcceptInvitation(ctx context.Context, c rempart.Caller, in rempart.InvitationAccept) (rempart.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.Token != fakeToken || slices.ContainsFunc(f.accepted, func(a rempart.InvitationAccept) bool { return a.Token == in.Token }) {
		return rempart.User{}, rempart.Errorf(rempart.EUNAUTHORIZED, "The invitation link is invalid, expired or already used.")
	}
	f.accepted = append(f.accepted, in)
	return rempart.User{ID: "usr_new", TenantID: "ten_acme", Email: "new@example.com", Name: in.Name, Role: rempart.RoleWriter, Status: rempart.UserActive}, nil
}

func (f *fakePeople) Me(ctx context.Context, c rempart.Caller) (rempart.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if u.ID == c.Principal.ID {
			return u, nil
		}
	}
	return rempart.User{}, rempart.Errorf(rempart.ENOTFOUND, "This credential belongs to a service account, not a person.")
}

func (f *fakePeople) Sessions(ctx context.Context, c rempart.Caller) ([]rempart.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []rempart.Session{
		{ID: c.CredentialID, UserID: c.Principal.ID, Kind: rempart.SessionConsole, CreatedAt: epoch, LastSeenAt: epoch, ExpiresAt: epoch.Add(12 * time.Hour), IP: "192.0.2.1", UserAgent: "Firefox", Current: true},
		{ID: "ses_other", UserID: c.Principal.ID, Kind: rempart.SessionAPI, CreatedAt: epoch, LastSeenAt: epoch, ExpiresAt: epoch.Add(time.Hour), IP: "192.0.2.2", UserAgent: "curl"},
	}
	return slices.DeleteFunc(out, func(s rempart.Session) bool { return slices.Contains(f.revoked, s.ID) }), nil
}

func (f *fakePeople) RevokeSession(ctx context.Context, c rempart.Caller, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, id)
	return nil
}

func (f *fakePeople) ChangePassword(ctx context.Context, c rempart.Caller, in rempart.PasswordChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.Current != "correct horse" {
		return rempart.Errorf(rempart.EUNAUTHORIZED, "The email address or password is wrong.")
	}
	f.changed = append(f.changed, in)
	return nil
}

// peopleConsole is the fake console with the people pages.
type peopleConsole struct {
	*console
	people *fakePeople
}

func newPeopleConsole(t *testing.T) *peopleConsole {
	t.Helper()
	c := newConsole(t)
	p := newFakePeople()
	c.h = web.New(web.Config{Sessions: c.sessions, Tenants: c.tenants, Accounts: c.accounts, Audit: c.audit,
		Keys: c.keys, TenantKeys: c.tenantKeys, Retention: c.retention, Backups: c.backups, Jobs: fakeJobs{}, People: p,
		CSRFKey: []byte("0123456789abcdef0123456789abcdef")})
	return &peopleConsole{console: c, people: p}
}

var signinCookie = &http.Cookie{Name: "__Host-rempart-signin", Value: "0123456789abcdefghjkmnpqrstvwxyz"}

// The people pages against golden files (regenerate with -update).
func TestPeopleGolden(t *testing.T) {
	c := newPeopleConsole(t)
	for _, tc := range []struct {
		file, path, session string
		cookies             []*http.Cookie
	}{
		{"people-staff.html", "/staff", "tok-admin", nil},
		{"people-tenant.html", "/tenants/ten_acme/people", "tok-tenant", nil},
		{"join.html", "/join", "", []*http.Cookie{signinCookie}},
		{"me.html", "/me", "tok-admin", nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := c.do(request{path: tc.path, session: tc.session, cookies: tc.cookies})
			wantStatus(t, r, http.StatusOK)
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(r.body), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), r.body); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", tc.path, path, diff)
			}
		})
	}
}

// A tenant's people are its admin's and the system administrators' only:
// another tenant's page is not found, the staff page forbidden (TEN-1).
func TestPeopleAuthorization(t *testing.T) {
	c := newPeopleConsole(t)
	wantStatus(t, c.get("/tenants/ten_globex/people", "tok-tenant"), http.StatusNotFound)
	wantStatus(t, c.get("/staff", "tok-tenant"), http.StatusForbidden)
	r := c.post("/tenants/ten_globex/people/invitations", "tok-tenant", url.Values{"email": {"x@example.com"}, "role": {"reader"}})
	wantStatus(t, r, http.StatusNotFound)
	// Without the CSRF token nothing changes.
	r = c.do(request{method: http.MethodPost, path: "/tenants/ten_acme/people/users/usr_sue/reactivate", session: "tok-tenant", form: url.Values{}})
	wantStatus(t, r, http.StatusForbidden)
	if c.people.users[2].Status != rempart.UserSuspended {
		t.Fatal("a post without CSRF token changed a user")
	}
	wantStatus(t, c.get("/staff", ""), http.StatusSeeOther)
}

// Inviting: with mail the page says so and shows no token; without, the
// link is shown once in the answer to the post, never in a URL.
func TestPeopleInvite(t *testing.T) {
	c := newPeopleConsole(t)
	r := c.post("/tenants/ten_acme/people/invitations", "tok-tenant", url.Values{"email": {"ann@example.com"}, "role": {"writer"}})
	wantStatus(t, r, http.StatusCreated)
	wantBody(t, r, []string{"https://console.example/join#" + fakeToken, "ann@example.com"}, nil)

	c.people.mail = true
	r = c.post("/tenants/ten_acme/people/invitations", "tok-tenant", url.Values{"email": {"bob@example.com"}, "role": {"reader"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/tenants/ten_acme/people?done=invitation-mailed")
	wantBody(t, c.get("/tenants/ten_acme/people?done=invitation-mailed", "tok-tenant"), []string{"Invitation mailed", "bob@example.com"}, []string{"ri_"})

	// A privileged role: held for another administrator, no link anywhere.
	r = c.post("/staff/invitations", "tok-admin", url.Values{"email": {"eve@example.com"}, "role": {"auditor"}})
	wantLocation(t, r, "/staff?done=invitation-pending-approval")
	wantBody(t, c.get("/staff?done=invitation-pending-approval", "tok-admin"), []string{"another administrator must approve it", "eve@example.com", "pending_approval"}, []string{"ri_"})

	// A refused message: the error on the form, the address kept.
	r = c.post("/tenants/ten_acme/people/invitations", "tok-tenant", url.Values{"email": {"refused@example.com"}, "role": {"reader"}})
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantBody(t, r, []string{"has been withdrawn", `value="refused@example.com"`}, nil)

	r = c.post("/tenants/ten_acme/people/invitations/inv_pending/withdraw", "tok-tenant", nil)
	wantLocation(t, r, "/tenants/ten_acme/people?done=invitation-withdrawn")
	if c.people.invitations[1].RevokedAt == nil {
		t.Error("invitation not withdrawn")
	}
	r = c.post("/tenants/ten_acme/people/users/usr_tad/suspend", "tok-tenant", nil)
	wantLocation(t, r, "/tenants/ten_acme/people?done=user-suspended")
	r = c.post("/tenants/ten_acme/people/users/usr_sue/reactivate", "tok-tenant", nil)
	wantLocation(t, r, "/tenants/ten_acme/people?done=user-reactivated")
	if c.people.users[1].Status != rempart.UserSuspended || c.people.users[2].Status != rempart.UserActive {
		t.Errorf("statuses: %s, %s", c.people.users[1].Status, c.people.users[2].Status)
	}
}

// Invitations pending approval (IAM-10): the buttons are offered to
// those who may decide but not to the inviter, whom the service refuses
// anyway; without mail the approver alone sees the link, once; a rejected
// invitation leaves the list; nothing changes without the CSRF token.
func TestInvitationApproval(t *testing.T) {
	c := newPeopleConsole(t)
	page := c.get("/tenants/ten_acme/people", "tok-tenant")
	wantBody(t, page, []string{`action="/tenants/ten_acme/people/invitations/inv_boss/approve"`, `action="/tenants/ten_acme/people/invitations/inv_boss/reject"`}, []string{"ri_"})
	staff := c.get("/staff", "tok-admin")
	wantBody(t, staff, []string{"ops@example.com", "Awaiting another administrator"}, []string{"/staff/invitations/inv_ops/approve"})

	r := c.do(request{method: http.MethodPost, path: "/tenants/ten_acme/people/invitations/inv_boss/approve", session: "tok-tenant", form: url.Values{}})
	wantStatus(t, r, http.StatusForbidden)
	if c.people.invitations[2].Status != rempart.InvitationPendingApproval {
		t.Fatal("a post without CSRF token approved an invitation")
	}

	r = c.post("/staff/invitations/inv_ops/approve", "tok-admin", nil)
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, []string{"Another person must decide on an invitation you made."}, []string{"ri_"})

	r = c.post("/tenants/ten_acme/people/invitations/inv_boss/approve", "tok-tenant", nil)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"https://console.example/join#" + fakeToken, "to you only"}, nil)
	if inv := c.people.invitations[2]; inv.Approval != rempart.ApprovalApproved || inv.DecidedBy != "usr_tad" {
		t.Errorf("after approval: %+v", inv)
	}
	// The link is not shown again.
	wantBody(t, c.get("/tenants/ten_acme/people", "tok-tenant"), []string{"boss@example.com", "approved by <code>usr_tad</code>"}, []string{"ri_"})

	r = c.post("/tenants/ten_acme/people/invitations/inv_boss/reject", "tok-tenant", nil)
	wantStatus(t, r, http.StatusConflict)

	c.people.invitations[3].InvitedBy = "usr_other"
	c.people.mail = true
	r = c.post("/staff/invitations/inv_ops/reject", "tok-admin", nil)
	wantLocation(t, r, "/staff?done=invitation-rejected")
	wantBody(t, c.get("/staff?done=invitation-rejected", "tok-admin"), []string{"Invitation rejected"}, []string{"ops@example.com"})
}

// Joining: the page sends no Referer and loads the script that reads the
// fragment; the form needs its CSRF token; the token and password are
// never echoed; success signs the new user in.
func TestJoin(t *testing.T) {
	c := newPeopleConsole(t)
	c.sessions.users["new@example.com"] = user{password: "a long passphrase", caller: rempart.Caller{Principal: rempart.Principal{ID: "usr_new", Name: "Nina", TenantID: "ten_acme", Role: rempart.RoleWriter}}}
	r := c.do(request{path: "/join", cookies: []*http.Cookie{signinCookie}})
	wantStatus(t, r, http.StatusOK)
	if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q", got)
	}
	wantBody(t, r, []string{`<script src="/assets/join.js"></script>`}, nil)
	if js := c.get("/assets/join.js", ""); js.StatusCode != http.StatusOK || !strings.Contains(js.body, "location.hash") {
		t.Errorf("join.js: %d", js.StatusCode)
	}
	csrf := csrfRE.FindStringSubmatch(r.body)[1]
	post := func(form url.Values) response {
		return c.do(request{method: http.MethodPost, path: "/join", form: form, cookies: []*http.Cookie{signinCookie}})
	}
	form := url.Values{"token": {fakeToken}, "name": {"Nina"}, "password": {"a long passphrase"}, "confirm": {"a long passphrase"}}
	wantStatus(t, post(form), http.StatusForbidden) // no CSRF token
	form.Set("csrf", csrf)
	form.Set("confirm", "another")
	r = post(form)
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{"The two passwords differ", `value="Nina"`}, []string{"s3cret", "a long passphrase"})
	// The whole link pasted works as well as the code.
	form.Set("confirm", "a long passphrase")
	form.Set("token", "https://console.example/join#"+fakeToken)
	r = post(form)
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/?done=joined")
	if ck := r.cookie("__Host-rempart-session"); ck == nil || ck.Value == "" {
		t.Fatal("no session after joining")
	}
	if len(c.people.accepted) != 1 || c.people.accepted[0].Token != fakeToken || c.people.accepted[0].Name != "Nina" {
		t.Fatalf("accepted: %+v", c.people.accepted)
	}
	r = post(form)
	wantStatus(t, r, http.StatusUnauthorized)
	wantBody(t, r, []string{"already used"}, []string{"s3cret"})
}

// My account: the password change checks the confirmation and ends the
// session; sessions end one by one or all but this one.
func TestMe(t *testing.T) {
	c := newPeopleConsole(t)
	r := c.post("/me/password", "tok-admin", url.Values{"current": {"correct horse"}, "new": {"n1"}, "confirm": {"n2"}})
	wantStatus(t, r, http.StatusBadRequest)
	r = c.post("/me/password", "tok-admin", url.Values{"current": {"wrong"}, "new": {"n1"}, "confirm": {"n1"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{"password is wrong"}, nil)
	r = c.post("/me/sessions/ses_other/revoke", "tok-admin", nil)
	wantLocation(t, r, "/me?done=session-revoked")
	r = c.post("/me/sessions/revoke-others", "tok-admin", nil)
	wantLocation(t, r, "/me?done=sessions-revoked")
	if !slices.Equal(c.people.revoked, []string{"ses_other"}) {
		t.Errorf("revoked %v, want only ses_other (once; this session kept)", c.people.revoked)
	}
	r = c.post("/me/password", "tok-admin", url.Values{"current": {"correct horse"}, "new": {"n1"}, "confirm": {"n1"}})
	wantLocation(t, r, "/sign-in?done=password-changed")
	if ck := r.cookie("__Host-rempart-session"); ck == nil || ck.MaxAge >= 0 {
		t.Error("session cookie not cleared after the password change")
	}
	if len(c.people.changed) != 1 || c.people.changed[0].Email != "ada@example.com" {
		t.Errorf("changes: %+v", c.people.changed)
	}
}

// Revoking all of a person's access from the console: a confirmation page,
// a clear error that keeps the form, and the evidence of what was revoked;
// never another tenant's user, never without the CSRF token (IAM-8).
func TestRevokeAccessPages(t *testing.T) {
	c := newPeopleConsole(t)
	base := "/tenants/ten_acme/people/users/usr_tad/revoke-access"
	wantBody(t, c.get("/tenants/ten_acme/people", "tok-tenant"), []string{`href="` + base + `"`}, nil)
	r := c.get(base, "tok-tenant")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"Tom Tenant", "tom@example.com", `value="offboard" checked`, "Revoke all access"}, nil)
	wantStatus(t, c.get("/tenants/ten_globex/people/users/usr_tad/revoke-access", "tok-tenant"), http.StatusNotFound)
	wantStatus(t, c.get("/tenants/ten_acme/people/users/usr_nobody/revoke-access", "tok-tenant"), http.StatusNotFound)

	r = c.do(request{method: http.MethodPost, path: base, session: "tok-tenant", form: url.Values{"kind": {"offboard"}, "reason": {"left the company"}}})
	wantStatus(t, r, http.StatusForbidden)
	if c.people.users[1].Status != rempart.UserActive {
		t.Fatal("a post without CSRF token revoked access")
	}
	r = c.post(base, "tok-tenant", url.Values{"kind": {"compromise"}, "reason": {"short"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{"10 to 500 characters", `value="compromise" checked`, `value="short"`}, nil)
	if c.people.users[1].Status != rempart.UserActive {
		t.Fatal("a refused revocation changed the user")
	}
	r = c.post(base, "tok-tenant", url.Values{"kind": {"offboard"}, "reason": {"left the company on Friday"}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"Access of <strong>Tom Tenant</strong>", "<td>3</td>", "<td>9</td>", "Password removed</th><td>yes"}, nil)
	if c.people.users[1].Status != rempart.UserSuspended {
		t.Error("the user was not suspended")
	}
}

func (f *fakePeople) CreatePersonalKey(ctx context.Context, c rempart.Caller, in rempart.PersonalKeyCreate) (rempart.PersonalKeyCreated, error) {
	if in.Name == "" || in.ExpiresInDays < 1 || in.ExpiresInDays > 90 {
		return rempart.PersonalKeyCreated{}, rempart.Errorf(rempart.EINVALID, "expires_in_days is required: a personal API key expires after 1 to 90 days.")
	}
	if c.Principal.TenantID == "" && !c.RecentMFA {
		return rempart.PersonalKeyCreated{}, rempart.Errorf(rempart.EMFAREQUIRED, "This action needs a second factor proven in the last minutes.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := rempart.PersonalKey{ID: fmt.Sprintf("pak_%d", len(f.keys)+1), Name: in.Name, UserID: c.Principal.ID, TenantID: c.Principal.TenantID,
		CreatedAt: epoch, ExpiresAt: epoch.Add(time.Duration(in.ExpiresInDays) * 24 * time.Hour)}
	f.keys = append(f.keys, k)
	return rempart.PersonalKeyCreated{PersonalKey: k, Secret: "rpk_secretshownonce"}, nil
}

func (f *fakePeople) PersonalKeys(ctx context.Context, c rempart.Caller) ([]rempart.PersonalKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rempart.PersonalKey
	for _, k := range f.keys {
		if k.UserID == c.Principal.ID && !slices.Contains(f.revoked, k.ID) {
			out = append(out, k)
		}
	}
	return out, nil
}

func (f *fakePeople) RevokePersonalKey(ctx context.Context, c rempart.Caller, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if k.ID == id && k.UserID == c.Principal.ID && !slices.Contains(f.revoked, id) {
			f.revoked = append(f.revoked, id)
			return nil
		}
	}
	return rempart.Errorf(rempart.ENOTFOUND, "Key not found or already revoked.")
}

// Personal API keys on the account page: the form makes one and the result
// page shows its secret once; the list never does; a bad expiry comes back
// with the service's reason and the form's values; revoking is a CSRF
// form; another person's key is not found (IAM-6).
func TestMePersonalKeys(t *testing.T) {
	c := newPeopleConsole(t)
	r := c.get("/me", "tok-tenant")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"No personal API keys.", `action="/me/api-keys"`, `name="expires_in_days"`}, nil)

	r = c.post("/me/api-keys", "tok-tenant", url.Values{"name": {"deploy script"}, "expires_in_days": {"91"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{"1 to 90 days", `value="deploy script"`, `value="91"`}, nil)
	r = c.post("/me/api-keys", "tok-tenant", url.Values{"name": {"deploy script"}, "expires_in_days": {"seven"}})
	wantStatus(t, r, http.StatusBadRequest)
	if len(c.people.keys) != 0 {
		t.Fatalf("keys after refusals: %+v", c.people.keys)
	}
	// Without the CSRF token, nothing happens.
	wantStatus(t, c.do(request{method: http.MethodPost, path: "/me/api-keys", session: "tok-tenant", form: url.Values{"name": {"x"}, "expires_in_days": {"7"}}}), http.StatusForbidden)

	r = c.post("/me/api-keys", "tok-tenant", url.Values{"name": {"deploy script"}, "expires_in_days": {"30"}})
	wantStatus(t, r, http.StatusCreated)
	wantBody(t, r, []string{"rpk_secretshownonce", "not shown again", "deploy script", `action="/me/api-keys/pak_1/revoke"`}, nil)
	if len(c.people.keys) != 1 || c.people.keys[0].ExpiresAt != epoch.Add(30*24*time.Hour) {
		t.Fatalf("keys: %+v", c.people.keys)
	}
	r = c.get("/me", "tok-tenant")
	wantBody(t, r, []string{"deploy script", "/me/api-keys/pak_1/revoke"}, []string{"rpk_secretshownonce"})

	// Someone else does not find the key; staff without a fresh second
	// factor are asked for one before making their own.
	r = c.post("/me/api-keys/pak_1/revoke", "tok-admin", nil)
	wantStatus(t, r, http.StatusNotFound)
	r = c.post("/me/api-keys", "tok-admin", url.Values{"name": {"ops"}, "expires_in_days": {"7"}})
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, []string{"Confirm it is you", `name="action" value="/me/api-keys"`}, nil)
	if len(c.people.keys) != 1 {
		t.Fatalf("a key made without the step-up: %+v", c.people.keys)
	}
	r = c.post("/me/api-keys/pak_1/revoke", "tok-tenant", nil)
	wantLocation(t, r, "/me?done=key-revoked")
	r = c.get("/me", "tok-tenant")
	wantBody(t, r, []string{"No personal API keys."}, []string{"pak_1"})
}
