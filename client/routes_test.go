package client_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

// TestRoutes checks, for every method, what goes on the wire and how the
// answer is decoded.
func TestRoutes(t *testing.T) {
	sa := rempart.ServiceAccount{ID: "sa_1", TenantID: "ten_1", Name: "crm", Role: rempart.RoleWriter, CreatedAt: t0}
	saJS := `{"id":"sa_1","tenant_id":"ten_1","name":"crm","role":"writer","created_at":` + t0JSON + `}`
	revoked := t0.Add(1)
	key := rempart.APIKey{ID: "key_1", PrincipalID: "sa_1", TenantID: "ten_1", CreatedAt: t0, ExpiresAt: t0, RevokedAt: &revoked}
	keyJS := `{"id":"key_1","principal_id":"sa_1","tenant_id":"ten_1","created_at":` + t0JSON + `,"expires_at":` + t0JSON + `,"revoked_at":"2025-03-01T12:00:00.000000001Z"}`
	entry := rempart.AuditEntry{Index: 7, Time: t0, TenantID: "ten_1", Action: "record.read", Outcome: rempart.OutcomeSuccess}
	entryJS := `{"index":7,"time":` + t0JSON + `,"tenant_id":"ten_1","action":"record.read","outcome":"success"}`
	deleted := record
	deleted.DeletedAt = &t0

	user := rempart.User{ID: "usr_1", Email: "a@example.com", Name: "Ada", Role: "auditor", Status: "active", CreatedAt: t0}
	userJS := `{"id":"usr_1","email":"a@example.com","name":"Ada","role":"auditor","status":"active","created_at":` + t0JSON + `}`
	prov := rempart.SSOProvider{ID: "sso_1", TenantID: "ten_1", Name: "Okta", Issuer: "https://login.example.com", ClientID: "c", ClientSecretSet: true,
		EmailDomains: []string{"example.com"}, DefaultRole: "reader", Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	provJS := `{"id":"sso_1","tenant_id":"ten_1","name":"Okta","issuer":"https://login.example.com","client_id":"c","client_secret_set":true,"email_domains":["example.com"],"jit_provisioning":false,"default_role":"reader","enabled":true,"created_at":` + t0JSON + `,"updated_at":` + t0JSON + `}`
	job := rempart.Job{ID: "job_1", Kind: "backup.create", Params: json.RawMessage(`{}`), Status: "queued", RunAfter: t0, CreatedAt: t0}
	jobJS := `{"id":"job_1","kind":"backup.create","params":{},"status":"queued","done":0,"total":0,"attempts":0,"run_after":` + t0JSON + `,"created_at":` + t0JSON + `}`
	bk := rempart.Backup{ID: "bk_1", Status: "complete", RootKeyID: "local:ab", CreatedAt: t0, DataBytes: 10, Rows: 2, Objects: 1}
	bkJS := `{"id":"bk_1","status":"complete","root_key_id":"local:ab","created_at":` + t0JSON + `,"data_bytes":10,"rows":2,"objects":1}`
	rt := rempart.RestoreTest{ID: "rt_1", BackupID: "bk_1", StartedAt: t0, Outcome: "success", Rows: 2}
	rtJS := `{"id":"rt_1","backup_id":"bk_1","started_at":` + t0JSON + `,"duration_ms":0,"restore_ms":0,"verify_ms":0,"outcome":"success","tables":0,"rows":2,"objects":0,"data_bytes":0,"audit_entries":0}`

	rc := rempart.RoleChange{ID: "rch_1", PrincipalID: "usr_1", SubjectName: "Ada", FromRole: "admin", ToRole: "reader", Reason: "why", RequestedBy: "usr_2", RequestedAt: t0, Status: "pending"}
	rcJS := `{"id":"rch_1","principal_id":"usr_1","subject_name":"Ada","from_role":"admin","to_role":"reader","reason":"why","requested_by":"usr_2","requested_at":` + t0JSON + `,"status":"pending"}`
	cp := rempart.Campaign{ID: "arc_1", Name: "Q", CreatedBy: "usr_2", CreatedAt: t0, DueAt: t0, Accounts: 1}
	cpJS := `{"id":"arc_1","name":"Q","created_by":"usr_2","created_at":` + t0JSON + `,"due_at":` + t0JSON + `,"accounts":1,"decided":0}`
	cpDetail := rempart.CampaignDetail{Campaign: cp, Items: []rempart.ReviewItem{{PrincipalID: "usr_1", Kind: "user", Name: "Ada", Role: "admin", Status: "active",
		Grants: []string{}, CreatedAt: t0, MFA: "none", Flags: []string{"no_mfa", "privileged"}}}}
	cpDetailJS := `{"id":"arc_1","name":"Q","created_by":"usr_2","created_at":` + t0JSON + `,"due_at":` + t0JSON + `,"accounts":1,"decided":0,"items":[{"principal_id":"usr_1","kind":"user","name":"Ada","role":"admin","status":"active","grants":[],"created_at":` + t0JSON + `,"mfa":"none","flags":["no_mfa","privileged"]}]}`

	tests := []struct {
		name   string
		answer answer
		call   func(c *client.Client) (any, error)
		want   any

		method, path, query, body string
		header                    map[string]string // "" means absent
		trailer                   map[string]string
	}{
		{
			name: "key inventory", answer: jsonAnswer(200, `{"root_source":"local key file x","active_root":"local:ab","root_versions":[{"id":"local:ab","active":true,"refs":3}],"tenants":[]}`),
			call:   func(c *client.Client) (any, error) { return c.KeyInventory(ctx) },
			want:   rempart.KeyInventory{RootSource: "local key file x", ActiveRoot: "local:ab", RootVersions: []rempart.RootKeyVersion{{ID: "local:ab", Active: true, Refs: 3}}, Tenants: []rempart.TenantKeys{}},
			method: "GET", path: "/api/v1/keys",
		},
		{
			name: "rotate root key", answer: jsonAnswer(202, jobJS),
			call:   func(c *client.Client) (any, error) { return c.RotateRootKey(ctx) },
			want:   job,
			method: "POST", path: "/api/v1/keys/root/rotate",
		},
		{
			name: "tenant keys", answer: jsonAnswer(200, `{"tenant_id":"ten_1","keks":[{"id":"kek_1","wrapper":"local:ab","created_at":`+t0JSON+`,"active":true}],"data_keys":[]}`),
			call:   func(c *client.Client) (any, error) { return c.TenantKeys(ctx, "ten_1") },
			want:   rempart.TenantKeys{TenantID: "ten_1", KEKs: []rempart.KEKInfo{{ID: "kek_1", Wrapper: "local:ab", CreatedAt: t0, Active: true}}, DataKeys: []rempart.DataKeyInfo{}},
			method: "GET", path: "/api/v1/tenants/ten_1/keys",
		},
		{
			name: "set customer key", answer: jsonAnswer(200, `{"tenant_id":"ten_1","keks":[],"data_keys":[]}`),
			call:   func(c *client.Client) (any, error) { return c.SetCustomerKey(ctx, "ten_1", "awskms://alias/x") },
			want:   rempart.TenantKeys{TenantID: "ten_1", KEKs: []rempart.KEKInfo{}, DataKeys: []rempart.DataKeyInfo{}},
			method: "PUT", path: "/api/v1/tenants/ten_1/keys/customer", body: `{"uri":"awskms://alias/x"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "remove customer key", answer: jsonAnswer(200, `{"tenant_id":"ten_1","keks":[],"data_keys":[]}`),
			call:   func(c *client.Client) (any, error) { return c.RemoveCustomerKey(ctx, "ten_1") },
			want:   rempart.TenantKeys{TenantID: "ten_1", KEKs: []rempart.KEKInfo{}, DataKeys: []rempart.DataKeyInfo{}},
			method: "DELETE", path: "/api/v1/tenants/ten_1/keys/customer",
		},
		{
			name: "rotate tenant keys", answer: jsonAnswer(202, jobJS),
			call:   func(c *client.Client) (any, error) { return c.RotateTenantKeys(ctx, "ten_1") },
			want:   job,
			method: "POST", path: "/api/v1/tenants/ten_1/keys/rotate",
		},
		{
			name: "retention rules", answer: jsonAnswer(200, `{"tenant_id":"ten_1","default":{"restorable_days":30},"default_source":"deployment",
				"rules":[{"collection":"calls","restorable_days":7,"max_age_days":365,"updated_at":`+t0JSON+`}],"min_days":1,"max_days":3650}`),
			call: func(c *client.Client) (any, error) { return c.Retention(ctx, "ten_1") },
			want: rempart.Retention{TenantID: "ten_1", Default: rempart.RetentionRule{RestorableDays: 30}, DefaultSource: "deployment",
				Rules: []rempart.RetentionRule{{Collection: "calls", RestorableDays: 7, MaxAgeDays: 365, UpdatedAt: &t0}}, MinDays: 1, MaxDays: 3650},
			method: "GET", path: "/api/v1/tenants/ten_1/retention",
		},
		{
			name: "set retention default", answer: jsonAnswer(200, `{"restorable_days":30,"updated_at":`+t0JSON+`}`),
			call: func(c *client.Client) (any, error) {
				return c.SetRetentionDefault(ctx, "ten_1", rempart.RetentionRuleSet{RestorableDays: 30})
			},
			want:   rempart.RetentionRule{RestorableDays: 30, UpdatedAt: &t0},
			method: "PUT", path: "/api/v1/tenants/ten_1/retention", body: `{"restorable_days":30}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "delete retention default", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.DeleteRetentionDefault(ctx, "ten_1") },
			method: "DELETE", path: "/api/v1/tenants/ten_1/retention",
		},
		{
			name: "set retention rule", answer: jsonAnswer(200, `{"collection":"calls","restorable_days":7,"max_age_days":365,"updated_at":`+t0JSON+`}`),
			call: func(c *client.Client) (any, error) {
				return c.SetRetentionRule(ctx, "ten_1", "calls", rempart.RetentionRuleSet{RestorableDays: 7, MaxAgeDays: 365})
			},
			want:   rempart.RetentionRule{Collection: "calls", RestorableDays: 7, MaxAgeDays: 365, UpdatedAt: &t0},
			method: "PUT", path: "/api/v1/tenants/ten_1/retention/calls", body: `{"restorable_days":7,"max_age_days":365}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "delete retention rule", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.DeleteRetentionRule(ctx, "ten_1", "calls") },
			method: "DELETE", path: "/api/v1/tenants/ten_1/retention/calls",
		},
		{
			name: "list backups", answer: jsonAnswer(200, `{"backups":[`+bkJS+`],"verifier_key":"vk"}`),
			call:   func(c *client.Client) (any, error) { return c.ListBackups(ctx) },
			want:   rempart.BackupList{Backups: []rempart.Backup{bk}, VerifierKey: "vk"},
			method: "GET", path: "/api/v1/backups",
		},
		{
			name: "create backup", answer: jsonAnswer(202, jobJS),
			call:   func(c *client.Client) (any, error) { return c.CreateBackup(ctx) },
			want:   job,
			method: "POST", path: "/api/v1/backups",
		},
		{
			name: "verify backup", answer: jsonAnswer(202, jobJS),
			call:   func(c *client.Client) (any, error) { return c.VerifyBackup(ctx, "bk_1") },
			want:   job,
			method: "POST", path: "/api/v1/backups/bk_1/verify",
		},
		{
			name: "list restore tests", answer: jsonAnswer(200, `{"restore_tests":[`+rtJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.ListRestoreTests(ctx, 5) },
			want:   rempart.RestoreTestList{RestoreTests: []rempart.RestoreTest{rt}},
			method: "GET", path: "/api/v1/restore-tests", query: "limit=5",
		},
		{
			name: "create restore test", answer: jsonAnswer(202, jobJS),
			call:   func(c *client.Client) (any, error) { return c.CreateRestoreTest(ctx) },
			want:   job,
			method: "POST", path: "/api/v1/restore-tests",
		},
		{
			name: "list jobs", answer: jsonAnswer(200, `{"jobs":[`+jobJS+`]}`),
			call: func(c *client.Client) (any, error) {
				return c.ListJobs(ctx, client.JobOptions{Kind: "backup.create", Status: "queued", Limit: 3})
			},
			want:   []rempart.Job{job},
			method: "GET", path: "/api/v1/jobs", query: "kind=backup.create&limit=3&status=queued",
		},
		{
			name: "get job", answer: jsonAnswer(200, jobJS),
			call:   func(c *client.Client) (any, error) { return c.GetJob(ctx, "job_1") },
			want:   job,
			method: "GET", path: "/api/v1/jobs/job_1",
		},
		{
			name: "openapi", answer: jsonAnswer(200, `{"openapi":"3.1.0"}`),
			call:   func(c *client.Client) (any, error) { return c.OpenAPI(ctx) },
			want:   json.RawMessage(`{"openapi":"3.1.0"}`),
			method: "GET", path: "/api/v1/openapi.json",
		},
		{
			name: "list tenants", answer: jsonAnswer(200, `{"tenants":[`+tenJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.ListTenants(ctx) },
			want:   []rempart.Tenant{tenant},
			method: "GET", path: "/api/v1/tenants",
		},
		{
			name: "create tenant", answer: jsonAnswer(201, tenJS),
			call:   func(c *client.Client) (any, error) { return c.CreateTenant(ctx, rempart.TenantCreate{Name: "Acme"}) },
			want:   tenant,
			method: "POST", path: "/api/v1/tenants", body: `{"name":"Acme"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "get tenant", answer: jsonAnswer(200, tenJS),
			call:   func(c *client.Client) (any, error) { return c.GetTenant(ctx, "ten_1") },
			want:   tenant,
			method: "GET", path: "/api/v1/tenants/ten_1",
		},
		{
			name: "suspend tenant", answer: jsonAnswer(200, tenJS),
			call:   func(c *client.Client) (any, error) { return c.SuspendTenant(ctx, "ten_1") },
			want:   tenant,
			method: "POST", path: "/api/v1/tenants/ten_1/suspend",
			header: map[string]string{"Content-Type": ""},
		},
		{
			name: "resume tenant", answer: jsonAnswer(200, tenJS),
			call:   func(c *client.Client) (any, error) { return c.ResumeTenant(ctx, "ten_1") },
			want:   tenant,
			method: "POST", path: "/api/v1/tenants/ten_1/resume",
		},
		{
			name: "sign in", answer: jsonAnswer(201, `{"id":"ses_1","user_id":"usr_1","kind":"api","created_at":`+t0JSON+`,"last_seen_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"ip":"192.0.2.1","user_agent":"ua","token":"rs_x"}`),
			call: func(c *client.Client) (any, error) {
				return c.SignIn(ctx, rempart.SignIn{Email: "a@example.com", Password: "pw"})
			},
			want:   rempart.SessionCreated{Session: rempart.Session{ID: "ses_1", UserID: "usr_1", Kind: "api", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0, IP: "192.0.2.1", UserAgent: "ua"}, Token: "rs_x"},
			method: "POST", path: "/api/v1/sessions", body: `{"email":"a@example.com","password":"pw"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "change password", answer: answer{Status: 204},
			call: func(c *client.Client) (any, error) {
				return nil, c.ChangePassword(ctx, rempart.PasswordChange{Email: "a@example.com", Current: "old", New: "new"})
			},
			method: "POST", path: "/api/v1/password", body: `{"email":"a@example.com","current":"old","new":"new"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "accept invitation", answer: jsonAnswer(201, userJS),
			call: func(c *client.Client) (any, error) {
				return c.AcceptInvitation(ctx, rempart.InvitationAccept{Token: "ri_x", Name: "Ada", Password: "pw"})
			},
			want:   user,
			method: "POST", path: "/api/v1/invitations/accept", body: `{"token":"ri_x","name":"Ada","password":"pw"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "me", answer: jsonAnswer(200, userJS),
			call:   func(c *client.Client) (any, error) { return c.Me(ctx) },
			want:   user,
			method: "GET", path: "/api/v1/me",
		},
		{
			name: "my sessions", answer: jsonAnswer(200, `{"sessions":[]}`),
			call:   func(c *client.Client) (any, error) { return c.Sessions(ctx) },
			want:   []rempart.Session{},
			method: "GET", path: "/api/v1/me/sessions",
		},
		{
			name: "revoke my session", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.RevokeSession(ctx, "ses_1") },
			method: "DELETE", path: "/api/v1/me/sessions/ses_1",
		},
		{
			name: "create personal key", answer: jsonAnswer(201, `{"id":"pak_1","name":"deploy","user_id":"usr_1","tenant_id":"ten_1","created_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"secret":"rpk_1.s"}`),
			call: func(c *client.Client) (any, error) {
				return c.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "deploy", ExpiresInDays: 30})
			},
			want:   rempart.PersonalKeyCreated{PersonalKey: rempart.PersonalKey{ID: "pak_1", Name: "deploy", UserID: "usr_1", TenantID: "ten_1", CreatedAt: t0, ExpiresAt: t0}, Secret: "rpk_1.s"},
			method: "POST", path: "/api/v1/me/api-keys", body: `{"name":"deploy","expires_in_days":30}`,
		},
		{
			name: "my personal keys", answer: jsonAnswer(200, `{"keys":[{"id":"pak_1","name":"deploy","user_id":"usr_1","created_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"current":true}]}`),
			call:   func(c *client.Client) (any, error) { return c.PersonalKeys(ctx) },
			want:   []rempart.PersonalKey{{ID: "pak_1", Name: "deploy", UserID: "usr_1", CreatedAt: t0, ExpiresAt: t0, Current: true}},
			method: "GET", path: "/api/v1/me/api-keys",
		},
		{
			name: "revoke my personal key", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.RevokePersonalKey(ctx, "pak_1") },
			method: "DELETE", path: "/api/v1/me/api-keys/pak_1",
		},
		{
			name: "my factors", answer: jsonAnswer(200, `{"factors":[{"id":"mfa_1","kind":"totp","name":"phone","created_at":`+t0JSON+`}],"recovery_codes_left":9}`),
			call:   func(c *client.Client) (any, error) { return c.Factors(ctx) },
			want:   rempart.FactorList{Factors: []rempart.Factor{{ID: "mfa_1", Kind: "totp", Name: "phone", CreatedAt: t0}}, RecoveryCodesLeft: 9},
			method: "GET", path: "/api/v1/me/factors",
		},
		{
			name: "start TOTP", answer: jsonAnswer(201, `{"id":"mfa_1","kind":"totp","name":"phone","created_at":`+t0JSON+`,"secret":"ABC","otpauth_uri":"otpauth://totp/x","qr_svg":"<svg/>"}`),
			call:   func(c *client.Client) (any, error) { return c.StartTOTP(ctx, rempart.TOTPStart{Name: "phone"}) },
			want:   rempart.TOTPEnrolment{Factor: rempart.Factor{ID: "mfa_1", Kind: "totp", Name: "phone", CreatedAt: t0}, Secret: "ABC", URI: "otpauth://totp/x", QRSVG: "<svg/>"},
			method: "POST", path: "/api/v1/me/factors/totp", body: `{"name":"phone"}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "confirm a factor", answer: jsonAnswer(200, `{"factor":{"id":"mfa_1","kind":"totp","name":"phone","created_at":`+t0JSON+`},"recovery_codes":["a"]}`),
			call:   func(c *client.Client) (any, error) { return c.ConfirmFactor(ctx, "mfa_1", "123456") },
			want:   rempart.FactorConfirmed{Factor: rempart.Factor{ID: "mfa_1", Kind: "totp", Name: "phone", CreatedAt: t0}, RecoveryCodes: []string{"a"}},
			method: "POST", path: "/api/v1/me/factors/mfa_1/confirm", body: `{"code":"123456"}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "delete a factor", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.DeleteFactor(ctx, "mfa_1") },
			method: "DELETE", path: "/api/v1/me/factors/mfa_1",
		},
		{
			name: "new recovery codes", answer: jsonAnswer(201, `{"recovery_codes":["a","b"]}`),
			call:   func(c *client.Client) (any, error) { return c.RegenerateRecoveryCodes(ctx) },
			want:   rempart.RecoveryCodes{Codes: []string{"a", "b"}},
			method: "POST", path: "/api/v1/me/recovery-codes",
		},
		{
			name: "step-up", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.VerifyMFA(ctx, "123456") },
			method: "POST", path: "/api/v1/mfa/verify", body: `{"code":"123456"}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "start a security key", answer: jsonAnswer(200, `{"options":{"challenge":"Y2g"},"state":"st"}`),
			call:   func(c *client.Client) (any, error) { return c.StartWebAuthn(ctx, "blue key") },
			want:   rempart.WebAuthnOptions{Options: json.RawMessage(`{"challenge":"Y2g"}`), State: "st"},
			method: "POST", path: "/api/v1/me/factors/webauthn", body: `{"name":"blue key"}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "finish a security key", answer: jsonAnswer(201, `{"factor":{"id":"mfa_2","kind":"webauthn","name":"blue key","created_at":`+t0JSON+`}}`),
			call: func(c *client.Client) (any, error) {
				return c.FinishWebAuthn(ctx, rempart.WebAuthnAnswer{State: "st", Credential: json.RawMessage(`{"id":"abc"}`)})
			},
			want:   rempart.FactorConfirmed{Factor: rempart.Factor{ID: "mfa_2", Kind: "webauthn", Name: "blue key", CreatedAt: t0}},
			method: "POST", path: "/api/v1/me/factors/webauthn/finish", body: `{"state":"st","credential":{"id":"abc"}}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "sign-in code", answer: jsonAnswer(201, `{"id":"ses_1","user_id":"usr_1","kind":"api","created_at":`+t0JSON+`,"last_seen_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"token":"rs_x"}`),
			call: func(c *client.Client) (any, error) {
				return c.SignInCode(ctx, rempart.SignInCode{Challenge: "ch", Code: "123456"})
			},
			want:   rempart.SessionCreated{Session: rempart.Session{ID: "ses_1", UserID: "usr_1", Kind: "api", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0}, Token: "rs_x"},
			method: "POST", path: "/api/v1/sessions/code", body: `{"challenge":"ch","code":"123456"}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "sign-in security key options", answer: jsonAnswer(200, `{"options":{"challenge":"Y2g"},"state":"st"}`),
			call:   func(c *client.Client) (any, error) { return c.SignInWebAuthnOptions(ctx, "ch") },
			want:   rempart.WebAuthnOptions{Options: json.RawMessage(`{"challenge":"Y2g"}`), State: "st"},
			method: "POST", path: "/api/v1/sessions/webauthn/options", body: `{"challenge":"ch"}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "sign-in security key", answer: jsonAnswer(201, `{"id":"ses_1","user_id":"usr_1","kind":"api","created_at":`+t0JSON+`,"last_seen_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"token":"rs_x"}`),
			call: func(c *client.Client) (any, error) {
				return c.SignInWebAuthn(ctx, rempart.SignInWebAuthn{Challenge: "ch", WebAuthnAnswer: rempart.WebAuthnAnswer{State: "st", Credential: json.RawMessage(`{"id":"abc"}`)}})
			},
			want:   rempart.SessionCreated{Session: rempart.Session{ID: "ses_1", UserID: "usr_1", Kind: "api", CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0}, Token: "rs_x"},
			method: "POST", path: "/api/v1/sessions/webauthn", body: `{"challenge":"ch","state":"st","credential":{"id":"abc"}}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "step-up security key options", answer: jsonAnswer(200, `{"options":{"challenge":"Y2g"},"state":"st"}`),
			call:   func(c *client.Client) (any, error) { return c.StepUpWebAuthnOptions(ctx) },
			want:   rempart.WebAuthnOptions{Options: json.RawMessage(`{"challenge":"Y2g"}`), State: "st"},
			method: "POST", path: "/api/v1/mfa/webauthn/options",
		},
		{
			name: "step-up security key", answer: answer{Status: 204},
			call: func(c *client.Client) (any, error) {
				return nil, c.VerifyMFAWebAuthn(ctx, rempart.WebAuthnAnswer{State: "st", Credential: json.RawMessage(`{"id":"abc"}`)})
			},
			method: "POST", path: "/api/v1/mfa/webauthn", body: `{"state":"st","credential":{"id":"abc"}}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "MFA policy", answer: jsonAnswer(200, `{"required":true}`),
			call:   func(c *client.Client) (any, error) { return c.MFAPolicy(ctx, "ten_1") },
			want:   rempart.MFAPolicy{Required: true},
			method: "GET", path: "/api/v1/tenants/ten_1/mfa-policy",
		},
		{
			name: "set MFA policy", answer: jsonAnswer(200, `{"required":true}`),
			call: func(c *client.Client) (any, error) {
				return c.SetMFAPolicy(ctx, "ten_1", rempart.MFAPolicy{Required: true})
			},
			want:   rempart.MFAPolicy{Required: true},
			method: "PUT", path: "/api/v1/tenants/ten_1/mfa-policy", body: `{"required":true}`, header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "invite to a tenant", answer: jsonAnswer(201, `{"id":"inv_1","tenant_id":"ten_1","email":"a@example.com","role":"reader","invited_by":"sa_1","created_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"token":"ri_x"}`),
			call: func(c *client.Client) (any, error) {
				return c.Invite(ctx, "ten_1", rempart.InvitationCreate{Email: "a@example.com", Role: "reader"})
			},
			want:   rempart.InvitationCreated{Invitation: rempart.Invitation{ID: "inv_1", TenantID: "ten_1", Email: "a@example.com", Role: "reader", InvitedBy: "sa_1", CreatedAt: t0, ExpiresAt: t0}, Token: "ri_x"},
			method: "POST", path: "/api/v1/tenants/ten_1/invitations", body: `{"email":"a@example.com","role":"reader"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "staff invitations", answer: jsonAnswer(200, `{"invitations":[]}`),
			call:   func(c *client.Client) (any, error) { return c.Invitations(ctx, "") },
			want:   []rempart.Invitation{},
			method: "GET", path: "/api/v1/staff/invitations",
		},
		{
			name: "create tenant sso provider", answer: jsonAnswer(201, provJS),
			call: func(c *client.Client) (any, error) {
				return c.CreateSSOProvider(ctx, "ten_1", rempart.SSOProviderInput{Name: "Okta", Issuer: "https://login.example.com", ClientID: "c", ClientSecret: "s",
					EmailDomains: []string{"example.com"}, DefaultRole: "reader", Enabled: true})
			},
			want:   prov,
			method: "POST", path: "/api/v1/tenants/ten_1/sso/providers",
			body:   `{"name":"Okta","issuer":"https://login.example.com","client_id":"c","client_secret":"s","email_domains":["example.com"],"default_role":"reader","enabled":true}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "staff sso providers", answer: jsonAnswer(200, `{"providers":[`+provJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.SSOProviders(ctx, "") },
			want:   []rempart.SSOProvider{prov},
			method: "GET", path: "/api/v1/staff/sso/providers",
		},
		{
			name: "sso provider", answer: jsonAnswer(200, provJS),
			call:   func(c *client.Client) (any, error) { return c.SSOProvider(ctx, "ten_1", "sso_1") },
			want:   prov,
			method: "GET", path: "/api/v1/tenants/ten_1/sso/providers/sso_1",
		},
		{
			name: "update sso provider keeping its secret", answer: jsonAnswer(200, provJS),
			call: func(c *client.Client) (any, error) {
				return c.UpdateSSOProvider(ctx, "", "sso_1", rempart.SSOProviderInput{Name: "Okta", Issuer: "https://login.example.com", ClientID: "c", EmailDomains: []string{"example.com"}})
			},
			want:   prov,
			method: "PUT", path: "/api/v1/staff/sso/providers/sso_1",
			body: `{"name":"Okta","issuer":"https://login.example.com","client_id":"c","email_domains":["example.com"]}`,
		},
		{
			name: "delete sso provider", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.DeleteSSOProvider(ctx, "ten_1", "sso_1") },
			method: "DELETE", path: "/api/v1/tenants/ten_1/sso/providers/sso_1",
		},
		{
			name: "approve staff invitation", answer: jsonAnswer(200, `{"id":"inv_1","email":"a@example.com","role":"auditor","status":"open","approval":"approved","invited_by":"usr_1","created_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"decided_by":"usr_2","decided_at":`+t0JSON+`,"token":"ri_x","mailed":false}`),
			call: func(c *client.Client) (any, error) {
				return c.ApproveInvitation(ctx, "", "inv_1", rempart.RoleChangeDecision{Note: "known to me"})
			},
			want: rempart.InvitationCreated{Invitation: rempart.Invitation{ID: "inv_1", Email: "a@example.com", Role: "auditor", Status: "open", Approval: "approved",
				InvitedBy: "usr_1", CreatedAt: t0, ExpiresAt: t0, DecidedBy: "usr_2", DecidedAt: &t0}, Token: "ri_x"},
			method: "POST", path: "/api/v1/staff/invitations/inv_1/approve", body: `{"note":"known to me"}`,
		},
		{
			name: "reject tenant invitation", answer: jsonAnswer(200, `{"id":"inv_1","tenant_id":"ten_1","email":"a@example.com","role":"admin","status":"rejected","approval":"rejected","invited_by":"usr_1","created_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"decided_by":"usr_2","decided_at":`+t0JSON+`}`),
			call: func(c *client.Client) (any, error) {
				return c.RejectInvitation(ctx, "ten_1", "inv_1", rempart.RoleChangeDecision{})
			},
			want: rempart.Invitation{ID: "inv_1", TenantID: "ten_1", Email: "a@example.com", Role: "admin", Status: "rejected", Approval: "rejected",
				InvitedBy: "usr_1", CreatedAt: t0, ExpiresAt: t0, DecidedBy: "usr_2", DecidedAt: &t0},
			method: "POST", path: "/api/v1/tenants/ten_1/invitations/inv_1/reject", body: `{}`,
		},
		{
			name: "revoke staff invitation", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.RevokeInvitation(ctx, "", "inv_1") },
			method: "DELETE", path: "/api/v1/staff/invitations/inv_1",
		},
		{
			name: "staff users", answer: jsonAnswer(200, `{"users":[`+userJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.Users(ctx, "") },
			want:   []rempart.User{user},
			method: "GET", path: "/api/v1/staff/users",
		},
		{
			name: "suspend user", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.SuspendUser(ctx, "ten_1", "usr_1") },
			method: "POST", path: "/api/v1/tenants/ten_1/users/usr_1/suspend",
		},
		{
			name: "offboard a user", answer: jsonAnswer(200, `{"user_id":"usr_1","kind":"offboard","reason":"left the company","at":`+t0JSON+`,"sessions":2,"factors":1,"recovery_codes":10,"grants":0,"personal_keys":1,"password_cleared":true}`),
			call: func(c *client.Client) (any, error) {
				return c.RevokeAccess(ctx, "ten_1", "usr_1", rempart.RevocationRequest{Kind: rempart.RevokeOffboard, Reason: "left the company"})
			},
			want: rempart.Revocation{UserID: "usr_1", Kind: "offboard", Reason: "left the company", At: t0,
				Sessions: 2, Factors: 1, RecoveryCodes: 10, PersonalKeys: 1, PasswordCleared: true},
			method: "POST", path: "/api/v1/tenants/ten_1/users/usr_1/revoke-access", body: `{"kind":"offboard","reason":"left the company"}`,
		},
		{
			name: "password policy", answer: jsonAnswer(200, `{"overrides":{"max_age_days":0},"min_length":10,"max_age_days":0,"history":5}`),
			call: func(c *client.Client) (any, error) {
				zero := 0
				return c.SetPasswordPolicy(ctx, "ten_1", rempart.TenantPasswordPolicy{MaxAgeDays: &zero})
			},
			want:   rempart.PasswordPolicyInfo{Overrides: rempart.TenantPasswordPolicy{MaxAgeDays: new(0)}, MinLength: 10, History: 5},
			method: "PUT", path: "/api/v1/tenants/ten_1/password-policy", body: `{"max_age_days":0}`,
		},
		{
			name: "reactivate staff user", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.ReactivateUser(ctx, "", "usr_1") },
			method: "POST", path: "/api/v1/staff/users/usr_1/reactivate",
		},
		{
			name: "role changes", answer: jsonAnswer(200, `{"role_changes":[`+rcJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.RoleChanges(ctx, "ten_1") },
			want:   []rempart.RoleChange{rc},
			method: "GET", path: "/api/v1/tenants/ten_1/role-changes",
		},
		{
			name: "request staff role change", answer: jsonAnswer(201, rcJS),
			call: func(c *client.Client) (any, error) {
				return c.RequestRoleChange(ctx, "", rempart.RoleChangeCreate{PrincipalID: "usr_1", Role: "reader", Reason: "why"})
			},
			want:   rc,
			method: "POST", path: "/api/v1/staff/role-changes", body: `{"principal_id":"usr_1","role":"reader","reason":"why"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "approve role change", answer: jsonAnswer(200, rcJS),
			call: func(c *client.Client) (any, error) {
				return c.ApproveRoleChange(ctx, "ten_1", "rch_1", rempart.RoleChangeDecision{Note: "ok"})
			},
			want:   rc,
			method: "POST", path: "/api/v1/tenants/ten_1/role-changes/rch_1/approve", body: `{"note":"ok"}`,
		},
		{
			name: "reject role change", answer: jsonAnswer(200, rcJS),
			call: func(c *client.Client) (any, error) {
				return c.RejectRoleChange(ctx, "", "rch_1", rempart.RoleChangeDecision{})
			},
			want:   rc,
			method: "POST", path: "/api/v1/staff/role-changes/rch_1/reject", body: `{}`,
		},
		{
			name: "campaigns", answer: jsonAnswer(200, `{"campaigns":[`+cpJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.Campaigns(ctx, "ten_1") },
			want:   []rempart.Campaign{cp},
			method: "GET", path: "/api/v1/tenants/ten_1/access-reviews",
		},
		{
			name: "create campaign", answer: jsonAnswer(201, cpJS),
			call: func(c *client.Client) (any, error) {
				return c.CreateCampaign(ctx, "", rempart.CampaignCreate{DueInDays: 7})
			},
			want:   cp,
			method: "POST", path: "/api/v1/staff/access-reviews", body: `{"due_in_days":7}`,
		},
		{
			name: "campaign", answer: jsonAnswer(200, cpDetailJS),
			call:   func(c *client.Client) (any, error) { return c.Campaign(ctx, "ten_1", "arc_1") },
			want:   cpDetail,
			method: "GET", path: "/api/v1/tenants/ten_1/access-reviews/arc_1",
		},
		{
			name: "decide review item", answer: jsonAnswer(200, `{"campaign":`+cpJS+`,"item":{"principal_id":"usr_1","kind":"user","name":"Ada","role":"admin","status":"active","grants":[],"created_at":`+t0JSON+`,"mfa":"none","flags":["no_mfa","privileged"]}}`),
			call: func(c *client.Client) (any, error) {
				return c.DecideReviewItem(ctx, "ten_1", "arc_1", "usr_1", rempart.ReviewDecision{Decision: "revoke"})
			},
			want:   rempart.ReviewDecided{Campaign: cp, Item: cpDetail.Items[0]},
			method: "POST", path: "/api/v1/tenants/ten_1/access-reviews/arc_1/items/usr_1", body: `{"decision":"revoke"}`,
		},
		{
			name: "export campaign", answer: answer{Status: 200, Header: map[string]string{"Content-Type": "text/csv"}, Body: "campaign_id\narc_1\n"},
			call: func(c *client.Client) (any, error) {
				var b strings.Builder
				err := c.ExportCampaign(ctx, "ten_1", "arc_1", "csv", &b)
				return b.String(), err
			},
			want:   "campaign_id\narc_1\n",
			method: "GET", path: "/api/v1/tenants/ten_1/access-reviews/arc_1/export", query: "format=csv",
		},
		{
			name: "delete tenant", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.DeleteTenant(ctx, "ten_1") },
			method: "DELETE", path: "/api/v1/tenants/ten_1",
		},
		{
			name: "list service accounts", answer: jsonAnswer(200, `{"service_accounts":[`+saJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.ListServiceAccounts(ctx, "ten_1") },
			want:   []rempart.ServiceAccount{sa},
			method: "GET", path: "/api/v1/tenants/ten_1/service-accounts",
		},
		{
			name: "create service account", answer: jsonAnswer(201, saJS),
			call: func(c *client.Client) (any, error) {
				return c.CreateServiceAccount(ctx, "ten_1", rempart.ServiceAccountCreate{Name: "crm", Role: rempart.RoleWriter})
			},
			want:   sa,
			method: "POST", path: "/api/v1/tenants/ten_1/service-accounts", body: `{"name":"crm","role":"writer"}`,
			header: map[string]string{"Content-Type": "application/json"},
		},
		{
			name: "delete service account", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.DeleteServiceAccount(ctx, "ten_1", "sa_1") },
			method: "DELETE", path: "/api/v1/tenants/ten_1/service-accounts/sa_1",
		},
		{
			name: "list keys", answer: jsonAnswer(200, `{"keys":[`+keyJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.ListAPIKeys(ctx, "ten_1", "sa_1") },
			want:   []rempart.APIKey{key},
			method: "GET", path: "/api/v1/tenants/ten_1/service-accounts/sa_1/keys",
		},
		{
			name:   "create key",
			answer: jsonAnswer(201, `{"id":"key_1","principal_id":"sa_1","tenant_id":"ten_1","created_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"secret":"rk_key_1.s"}`),
			call: func(c *client.Client) (any, error) {
				return c.CreateAPIKey(ctx, "ten_1", "sa_1", rempart.APIKeyCreate{ExpiresInDays: 7})
			},
			want:   rempart.APIKeyCreated{APIKey: rempart.APIKey{ID: "key_1", PrincipalID: "sa_1", TenantID: "ten_1", CreatedAt: t0, ExpiresAt: t0}, Secret: "rk_key_1.s"},
			method: "POST", path: "/api/v1/tenants/ten_1/service-accounts/sa_1/keys", body: `{"expires_in_days":7}`,
		},
		{
			name: "create key with defaults", answer: jsonAnswer(201, `{"id":"key_1","secret":"s"}`),
			call: func(c *client.Client) (any, error) {
				return c.CreateAPIKey(ctx, "ten_1", "sa_1", rempart.APIKeyCreate{})
			},
			want:   rempart.APIKeyCreated{APIKey: rempart.APIKey{ID: "key_1"}, Secret: "s"},
			method: "POST", path: "/api/v1/tenants/ten_1/service-accounts/sa_1/keys", body: `{}`,
		},
		{
			name: "revoke key", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.RevokeAPIKey(ctx, "ten_1", "sa_1", "key_1") },
			method: "DELETE", path: "/api/v1/tenants/ten_1/service-accounts/sa_1/keys/key_1",
		},
		{
			name: "collections", answer: jsonAnswer(200, `{"collections":["calls","notes"]}`),
			call:   func(c *client.Client) (any, error) { return c.Collections(ctx, "ten_1") },
			want:   []string{"calls", "notes"},
			method: "GET", path: "/api/v1/tenants/ten_1/collections",
		},
		{
			name: "list records", answer: jsonAnswer(200, `{"records":[`+recJS+`],"next_cursor":"abc"}`),
			call: func(c *client.Client) (any, error) {
				return c.ListRecords(ctx, "ten_1", "calls", client.ListOptions{Limit: 10, Cursor: "a b", Sort: client.SortCreatedDesc, Deleted: true})
			},
			want:   rempart.RecordList{Records: []rempart.Record{record}, NextCursor: "abc"},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records", query: "cursor=a+b&deleted=true&limit=10&sort=-created_at",
		},
		{
			name: "list records with defaults", answer: jsonAnswer(200, `{"records":[]}`),
			call: func(c *client.Client) (any, error) {
				return c.ListRecords(ctx, "ten_1", "calls", client.ListOptions{})
			},
			want:   rempart.RecordList{Records: []rempart.Record{}},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records",
		},
		{
			name: "create record", answer: jsonAnswer(201, recJS),
			call: func(c *client.Client) (any, error) {
				return c.CreateRecord(ctx, "ten_1", "calls", map[string]any{"a": 1}, "")
			},
			want:   record,
			method: "POST", path: "/api/v1/tenants/ten_1/collections/calls/records", body: `{"a":1}`,
			header: map[string]string{"Content-Type": "application/json", "Idempotency-Key": ""},
		},
		{
			name: "create record idempotently from raw JSON", answer: jsonAnswer(201, recJS),
			call: func(c *client.Client) (any, error) {
				return c.CreateRecord(ctx, "ten_1", "calls", json.RawMessage(`{"a": 1}`), "op-42")
			},
			want:   record,
			method: "POST", path: "/api/v1/tenants/ten_1/collections/calls/records", body: `{"a": 1}`,
			header: map[string]string{"Content-Type": "application/json", "Idempotency-Key": "op-42"},
		},
		{
			name: "create record from bytes", answer: jsonAnswer(201, recJS),
			call: func(c *client.Client) (any, error) {
				return c.CreateRecord(ctx, "ten_1", "calls", []byte(`{"a":1}`), "")
			},
			want:   record,
			method: "POST", path: "/api/v1/tenants/ten_1/collections/calls/records", body: `{"a":1}`,
		},
		{
			name: "get record", answer: answer{Status: 200, Header: map[string]string{"ETag": `"3"`}, Body: recJS},
			call:   func(c *client.Client) (any, error) { return c.GetRecord(ctx, "ten_1", "calls", "rec_1") },
			want:   record,
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1",
		},
		{
			name: "replace record", answer: jsonAnswer(200, recJS),
			call: func(c *client.Client) (any, error) {
				return c.ReplaceRecord(ctx, "ten_1", "calls", "rec_1", struct {
					A int `json:"a"`
				}{1}, 0)
			},
			want:   record,
			method: "PUT", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1", body: `{"a":1}`,
			header: map[string]string{"Content-Type": "application/json", "If-Match": ""},
		},
		{
			name: "replace record if match", answer: jsonAnswer(200, recJS),
			call: func(c *client.Client) (any, error) {
				return c.ReplaceRecord(ctx, "ten_1", "calls", "rec_1", map[string]int{"a": 1}, 2)
			},
			want:   record,
			method: "PUT", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1", body: `{"a":1}`,
			header: map[string]string{"If-Match": `"2"`},
		},
		{
			name: "patch record", answer: jsonAnswer(200, recJS),
			call: func(c *client.Client) (any, error) {
				return c.PatchRecord(ctx, "ten_1", "calls", "rec_1", map[string]any{"b": nil}, 3)
			},
			want:   record,
			method: "PATCH", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1", body: `{"b":null}`,
			header: map[string]string{"Content-Type": "application/merge-patch+json", "If-Match": `"3"`},
		},
		{
			name: "delete record", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.DeleteRecord(ctx, "ten_1", "calls", "rec_1", 0) },
			method: "DELETE", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1",
			header: map[string]string{"If-Match": ""},
		},
		{
			name: "delete record if match", answer: answer{Status: 204},
			call:   func(c *client.Client) (any, error) { return nil, c.DeleteRecord(ctx, "ten_1", "calls", "rec_1", 12) },
			method: "DELETE", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1",
			header: map[string]string{"If-Match": `"12"`},
		},
		{
			name: "restore record", answer: jsonAnswer(200, recJS),
			call:   func(c *client.Client) (any, error) { return c.RestoreRecord(ctx, "ten_1", "calls", "rec_1") },
			want:   record,
			method: "POST", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/restore",
		},
		{
			name: "deleted record decodes deleted_at", answer: jsonAnswer(200, `{"records":[`+recJS[:len(recJS)-1]+`,"deleted_at":`+t0JSON+`}]}`),
			call: func(c *client.Client) (any, error) {
				return c.ListRecords(ctx, "ten_1", "calls", client.ListOptions{Deleted: true})
			},
			want:   rempart.RecordList{Records: []rempart.Record{deleted}},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records", query: "deleted=true",
		},
		{
			name: "upload attachment with its digest", answer: jsonAnswer(201, attJS),
			call: func(c *client.Client) (any, error) {
				return c.UploadAttachment(ctx, "ten_1", "calls", "rec_1", strings.NewReader("hello"), client.UploadOptions{Filename: "a b.txt", ContentType: "text/plain", Size: 5, SHA256: helloSum[:]})
			},
			want:   att,
			method: "POST", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments", query: "filename=a+b.txt", body: "hello",
			header: map[string]string{"Content-Type": "text/plain", "Content-Digest": helloDigest, "Content-Length": "5"},
		},
		{
			name: "upload attachment hashed as it is sent", answer: jsonAnswer(201, attJS),
			call: func(c *client.Client) (any, error) {
				return c.UploadAttachment(ctx, "ten_1", "calls", "rec_1", io.MultiReader(strings.NewReader("hel"), strings.NewReader("lo")), client.UploadOptions{Filename: "a.txt"})
			},
			want:   att,
			method: "POST", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments", query: "filename=a.txt", body: "hello",
			header:  map[string]string{"Content-Type": "application/octet-stream", "Content-Digest": "", "Content-Length": ""},
			trailer: map[string]string{"Content-Digest": helloDigest},
		},
		{
			name: "list attachments", answer: jsonAnswer(200, `{"attachments":[`+attJS+`]}`),
			call:   func(c *client.Client) (any, error) { return c.ListAttachments(ctx, "ten_1", "calls", "rec_1", false) },
			want:   []rempart.Attachment{att},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments",
		},
		{
			name: "list deleted attachments", answer: jsonAnswer(200, `{"attachments":[]}`),
			call:   func(c *client.Client) (any, error) { return c.ListAttachments(ctx, "ten_1", "calls", "rec_1", true) },
			want:   []rempart.Attachment{},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments", query: "deleted=true",
		},
		{
			name: "download attachment", answer: answer{Status: 200, Body: "hello", Header: map[string]string{"Content-Type": "text/plain", "ETag": `"` + att.SHA256 + `"`,
				"Content-Disposition": `attachment; filename*=utf-8''%C3%A9t%C3%A9.txt`}},
			call: func(c *client.Client) (any, error) {
				return downloaded(c.DownloadAttachment(ctx, "ten_1", "calls", "rec_1", "att_1", nil))
			},
			want:   download{Data: "hello", Filename: "été.txt", ContentType: "text/plain", SHA256: att.SHA256, Size: 5, Length: 5},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments/att_1",
			header: map[string]string{"Range": "", "Accept": "*/*"},
		},
		{
			name: "download a range", answer: answer{Status: 206, Body: "ell", Header: map[string]string{"Content-Type": "text/plain", "ETag": `"` + att.SHA256 + `"`, "Content-Range": "bytes 1-3/5"}},
			call: func(c *client.Client) (any, error) {
				return downloaded(c.DownloadAttachment(ctx, "ten_1", "calls", "rec_1", "att_1", &client.Range{Offset: 1, Length: 3}))
			},
			want:   download{Data: "ell", ContentType: "text/plain", SHA256: att.SHA256, Size: 5, Offset: 1, Length: 3, Partial: true},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments/att_1",
			header: map[string]string{"Range": "bytes=1-3"},
		},
		{
			name: "download the last bytes", answer: answer{Status: 206, Body: "lo", Header: map[string]string{"Content-Type": "audio/wav", "Content-Range": "bytes 3-4/5"}},
			call: func(c *client.Client) (any, error) {
				return downloaded(c.DownloadAttachment(ctx, "ten_1", "calls", "rec_1", "att_1", &client.Range{Offset: -2}))
			},
			want:   download{Data: "lo", ContentType: "audio/wav", Size: 5, Offset: 3, Length: 2, Partial: true},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments/att_1",
			header: map[string]string{"Range": "bytes=-2"},
		},
		{
			name: "download from an offset", answer: answer{Status: 206, Body: "llo", Header: map[string]string{"Content-Type": "audio/wav", "Content-Range": "bytes 2-4/5"}},
			call: func(c *client.Client) (any, error) {
				return downloaded(c.DownloadAttachment(ctx, "ten_1", "calls", "rec_1", "att_1", &client.Range{Offset: 2}))
			},
			want:   download{Data: "llo", ContentType: "audio/wav", Size: 5, Offset: 2, Length: 3, Partial: true},
			method: "GET", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments/att_1",
			header: map[string]string{"Range": "bytes=2-"},
		},
		{
			name: "delete attachment", answer: answer{Status: 204},
			call: func(c *client.Client) (any, error) {
				return nil, c.DeleteAttachment(ctx, "ten_1", "calls", "rec_1", "att_1")
			},
			method: "DELETE", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments/att_1",
		},
		{
			name: "restore attachment", answer: jsonAnswer(200, attJS),
			call: func(c *client.Client) (any, error) {
				return c.RestoreAttachment(ctx, "ten_1", "calls", "rec_1", "att_1")
			},
			want:   att,
			method: "POST", path: "/api/v1/tenants/ten_1/collections/calls/records/rec_1/attachments/att_1/restore",
		},
		{
			name: "tenant audit", answer: jsonAnswer(200, `{"entries":[`+entryJS+`],"next_cursor":"8"}`),
			call: func(c *client.Client) (any, error) {
				return c.TenantAudit(ctx, "ten_1", client.AuditOptions{Cursor: "7", Limit: 1, Action: "record.read"})
			},
			want:   rempart.AuditList{Entries: []rempart.AuditEntry{entry}, NextCursor: "8"},
			method: "GET", path: "/api/v1/tenants/ten_1/audit", query: "action=record.read&cursor=7&limit=1",
		},
		{
			name: "audit entries", answer: jsonAnswer(200, `{"entries":[`+entryJS+`]}`),
			call: func(c *client.Client) (any, error) {
				return c.AuditEntries(ctx, client.AuditOptions{Start: 7, Limit: 50})
			},
			want:   rempart.AuditList{Entries: []rempart.AuditEntry{entry}},
			method: "GET", path: "/api/v1/audit/entries", query: "limit=50&start=7",
		},
		{
			name: "checkpoint", answer: jsonAnswer(200, `{"origin":"rempart","size":8,"root_hash":"AQI=","note":"n","verifier_key":"k"}`),
			call:   func(c *client.Client) (any, error) { return c.Checkpoint(ctx) },
			want:   rempart.Checkpoint{Origin: "rempart", Size: 8, RootHash: []byte{1, 2}, Note: "n", VerifierKey: "k"},
			method: "GET", path: "/api/v1/audit/checkpoint",
		},
		{
			name: "inclusion proof", answer: jsonAnswer(200, `{"index":3,"size":8,"leaf_hash":"AQ==","hashes":["Ag==","Aw=="]}`),
			call:   func(c *client.Client) (any, error) { return c.InclusionProof(ctx, 3, 8) },
			want:   rempart.Proof{Index: 3, Size: 8, LeafHash: []byte{1}, Hashes: [][]byte{{2}, {3}}},
			method: "GET", path: "/api/v1/audit/proofs/inclusion", query: "index=3&size=8",
		},
		{
			name: "consistency proof", answer: jsonAnswer(200, `{"from":4,"size":8,"hashes":["Ag=="]}`),
			call:   func(c *client.Client) (any, error) { return c.ConsistencyProof(ctx, 4, 8) },
			want:   rempart.Proof{From: 4, Size: 8, Hashes: [][]byte{{2}}},
			method: "GET", path: "/api/v1/audit/proofs/consistency", query: "from=4&to=8",
		},
	}
	f := newFake(t)
	c := f.client()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.reply(tt.answer)
			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			r := f.request()
			if r.Method != tt.method || r.Path != tt.path || r.Query != tt.query {
				t.Errorf("request: got %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, tt.method, tt.path, tt.query)
			}
			if !jsonEqual(t, r.Body, tt.body) {
				t.Errorf("body: got %q, want %q", r.Body, tt.body)
			}
			if g := r.Header.Get("Authorization"); g != "Bearer rk_key1.secret" {
				t.Errorf("Authorization: got %q", g)
			}
			for k, want := range tt.header {
				if g := r.Header.Get(k); g != want {
					t.Errorf("header %s: got %q, want %q", k, g, want)
				}
			}
			for k, want := range tt.trailer {
				if g := r.Trailer.Get(k); g != want {
					t.Errorf("trailer %s: got %q, want %q", k, g, want)
				}
			}
			if tt.body == "" && r.Header.Get("Content-Type") != "" {
				t.Errorf("Content-Type without a body: got %q", r.Header.Get("Content-Type"))
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
			}
		})
	}
}
