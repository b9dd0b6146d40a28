package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/identity/totp"
)

// TestPersonalKeysOverTheAPI: a person makes an API key with a mandatory
// expiry (and a fresh second factor when they have one), sees its secret
// once, and the key then acts as the person with their current role and
// status, every use audited under it, until it expires or is revoked. A key
// proves no second factor: it cannot make another key, nor do what needs a
// step-up, even for staff (IAM-6, IAM-4, IAM-8, AUD-1).
func TestPersonalKeysOverTheAPI(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	adminCaller, adminKey := s.admin()
	acme := s.tenant(adminCaller, "Acme")
	root := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	_, tenantAdmin := person(t, s, root, acme, "admin@acme.example", rempart.RoleAdmin)
	bobU, bob := person(t, s, root, acme, "bob@acme.example", rempart.RoleWriter)
	secU, sec := person(t, s, root, "", "sec@example.com", rempart.RoleSystemAdmin)

	bobSess, err := client.New(s.srv.URL).SignIn(ctx, rempart.SignIn{Email: "bob@acme.example", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}

	// Refusals at creation, each with a clear problem.
	for _, c := range []struct {
		name, body, detail string
	}{
		{"no expiry", `{"name":"deploy"}`, "expires_in_days is required"},
		{"too long", `{"name":"deploy","expires_in_days":91}`, "1 to 90 days"},
		{"zero", `{"name":"deploy","expires_in_days":0}`, "expires_in_days is required"},
		{"no name", `{"expires_in_days":30}`, "name is 1 to 64"},
		{"an unknown field", `{"name":"deploy","expires_in_days":30,"role":"admin"}`, ""},
	} {
		status, ctype, body := rawCall(t, s, bobSess.Token, http.MethodPost, "/api/v1/me/api-keys", c.body)
		if status != http.StatusBadRequest || ctype != "application/problem+json" || !strings.Contains(body, c.detail) {
			t.Errorf("%s: %d %s %s", c.name, status, ctype, body)
		}
	}

	k, err := bob.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "deploy script", ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.ID, "pak_") || !strings.HasPrefix(k.Secret, "rpk_") || k.UserID != bobU.ID || k.TenantID != acme || k.ExpiresAt.Sub(k.CreatedAt) != 30*24*time.Hour {
		t.Fatalf("the key: %+v", k.PersonalKey)
	}
	status, _, body := rawCall(t, s, bobSess.Token, http.MethodGet, "/api/v1/me/api-keys", "")
	if status != http.StatusOK || !strings.Contains(body, k.ID) || strings.Contains(body, k.Secret[strings.Index(k.Secret, ".")+1:]) || strings.Contains(body, "secret") {
		t.Fatalf("the list shows no secret: %d %s", status, body)
	}

	// The key is bob: the same principal, tenant and role.
	key := client.New(s.srv.URL, client.WithAPIKey(k.Secret))
	me, err := key.Me(ctx)
	if err != nil || me.ID != bobU.ID || me.Role != rempart.RoleWriter {
		t.Fatalf("me with the key: %+v, %v", me, err)
	}
	rec, err := key.CreateRecord(ctx, acme, "calls", map[string]string{"note": "from a script"}, "")
	if err != nil {
		t.Fatalf("a writer's key writes: %v", err)
	}
	if list, err := key.PersonalKeys(ctx); err != nil || len(list) != 1 || !list[0].Current || list[0].LastUsedAt == nil {
		t.Fatalf("the key lists itself: %+v, %v", list, err)
	}
	// No self-perpetuating credential, no session business.
	if _, err := key.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "child", ExpiresInDays: 90}); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("a key makes a key: got %v, want forbidden", err)
	}
	if _, err := key.Sessions(ctx); code(err) != rempart.ENOTFOUND {
		t.Fatalf("a key lists sessions: got %v, want not found", err)
	}

	// A role change applies at once: bob becomes a reader.
	rc, err := tenantAdmin.RequestRoleChange(ctx, acme, rempart.RoleChangeCreate{PrincipalID: bobU.ID, Role: rempart.RoleReader, Reason: "Reads only now"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.ApproveRoleChange(ctx, acme, rc.ID, rempart.RoleChangeDecision{Note: "Agreed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := key.CreateRecord(ctx, acme, "calls", map[string]string{"note": "again"}, ""); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("a reader's key writes: got %v, want forbidden", err)
	}
	if _, err := key.GetRecord(ctx, acme, "calls", rec.ID); err != nil {
		t.Fatalf("a reader's key reads: %v", err)
	}

	// Every use names the key in the audit trail.
	used := map[string]bool{}
	list, err := root.AuditEntries(ctx, client.AuditOptions{Principal: bobU.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Entries {
		if e.CredentialID == k.ID {
			used[e.Action+" "+e.Outcome] = true
		}
	}
	for _, want := range []string{"user.read success", "record.create success", "record.create denied", "record.read success", "personal_key.create denied", "personal_key.list success"} {
		if !used[want] {
			t.Errorf("no %s entry under the key; have %v", want, used)
		}
	}

	k3, err := bob.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "cron", ExpiresInDays: 90})
	if err != nil {
		t.Fatal(err)
	}
	other := client.New(s.srv.URL, client.WithAPIKey(k3.Secret))

	// Revocation is immediate; another person's key is not found.
	k2, err := bob.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "laptop", ExpiresInDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := sec.RevokePersonalKey(ctx, k2.ID); code(err) != rempart.ENOTFOUND {
		t.Fatalf("someone else revokes bob's key: got %v, want not found", err)
	}
	if err := bob.RevokePersonalKey(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(s.srv.URL, client.WithAPIKey(k2.Secret)).Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a revoked key: got %v, want unauthorized", err)
	}

	// Staff need a fresh second factor to make one, and the key never
	// passes a step-up.
	s.clock.Advance(11 * time.Minute)
	if _, err := sec.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "ops", ExpiresInDays: 7}); code(err) != rempart.EMFAREQUIRED {
		t.Fatalf("staff without a fresh second factor: got %v, want mfa required", err)
	}
	if err := sec.VerifyMFA(ctx, totp.Code(s.totp["sec@example.com"], s.clock.Now())); err != nil {
		t.Fatal(err)
	}
	sk, err := sec.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "ops", ExpiresInDays: 7})
	if err != nil {
		t.Fatalf("staff with a fresh second factor: %v", err)
	}
	secKey := client.New(s.srv.URL, client.WithAPIKey(sk.Secret))
	if me, err := secKey.Me(ctx); err != nil || me.ID != secU.ID {
		t.Fatalf("staff key: %+v, %v", me, err)
	}
	if _, err := secKey.RotateRootKey(ctx); code(err) != rempart.EMFAREQUIRED {
		t.Fatalf("root key rotation with a personal key: got %v, want mfa required", err)
	}
	if _, err := secKey.Invite(ctx, "", rempart.InvitationCreate{Email: "new@example.com", Role: rempart.RoleAuditor}); code(err) != rempart.EMFAREQUIRED {
		t.Fatalf("a staff invitation with a personal key: got %v, want mfa required", err)
	}
	if _, err := secKey.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "child", ExpiresInDays: 7}); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("a staff key makes a key: got %v, want forbidden", err)
	}

	// An enrolment-only session makes none.
	inv := invite(t, s, root, "", "eve@example.com", rempart.RoleAuditor)
	anon := client.New(s.srv.URL)
	if _, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: inv.Token, Name: "Eve", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	eveSess, err := anon.SignIn(ctx, rempart.SignIn{Email: "eve@example.com", Password: goodPassword})
	if err != nil || !eveSess.EnrolOnly {
		t.Fatalf("eve's session: %+v, %v", eveSess, err)
	}
	if _, err := anon.WithKey(eveSess.Token).CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "x", ExpiresInDays: 7}); code(err) != rempart.EMFAREQUIRED {
		t.Fatalf("an enrolment-only session: got %v, want mfa required", err)
	}

	// The expiry: still valid a second before, refused at it.
	s.clock.Advance(k.ExpiresAt.Add(-time.Second).Sub(s.clock.Now()))
	if _, err := key.Me(ctx); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	s.clock.Advance(time.Second)
	if _, err := key.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("at expiry: got %v, want unauthorized", err)
	}

	// A suspended person's key is refused at once, and revoked: it does
	// not come back with a reactivation.
	if _, err := other.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if err := root.SuspendUser(ctx, acme, bobU.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a suspended person's key: got %v, want unauthorized", err)
	}
	if err := root.ReactivateUser(ctx, acme, bobU.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a suspended person's key after reactivation: got %v, want unauthorized", err)
	}

	// Every refused use is audited under the key, with why.
	refused := map[string]bool{}
	list, err = root.AuditEntries(ctx, client.AuditOptions{Action: "auth.personal_key", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Entries {
		if e.Outcome == rempart.OutcomeDenied {
			refused[e.CredentialID+" "+e.Reason] = true
		}
	}
	for _, want := range []string{k2.ID + " revoked", k3.ID + " revoked", k.ID + " expired"} {
		if !refused[want] {
			t.Errorf("no refusal %q audited; have %v", want, refused)
		}
	}
	denied := map[string]bool{}
	for _, action := range []string{"personal_key.create", "key.root.rotate_request", "invitation.create"} {
		list, err := root.AuditEntries(ctx, client.AuditOptions{Action: action, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Entries {
			if e.Outcome == rempart.OutcomeDenied {
				denied[action+" "+e.CredentialID] = true
			}
		}
	}
	for _, want := range []string{"personal_key.create " + k.ID, "personal_key.create " + sk.ID, "key.root.rotate_request " + sk.ID, "invitation.create " + sk.ID} {
		if !denied[want] {
			t.Errorf("no refusal of %q audited; have %v", want, denied)
		}
	}
}

// rawCall makes a request with the credential token and returns the status,
// content type and body, for what the typed client hides.
func rawCall(t *testing.T, s *stack, token, method, path, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}
