package web_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/jobs"
	"github.com/rempart/rempart/web"
)

// In-memory stand-ins for the domain services, with the same authorisation
// shape: system administrators manage tenants; a tenant's admin sees only
// their own tenant, and another tenant is "not found" (TEN-1).

var epoch = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

var (
	sysAdmin    = rempart.Caller{Principal: rempart.Principal{ID: "usr_admin", Name: "Ada Admin", Role: rempart.RoleSystemAdmin}, CredentialID: "ses_1"}
	tenantAdmin = rempart.Caller{Principal: rempart.Principal{ID: "usr_tad", Name: "Tom Tenant", TenantID: "ten_acme", Role: rempart.RoleAdmin}, CredentialID: "ses_2"}
)

type fakeSessions struct {
	mu       sync.Mutex
	users    map[string]user // by email
	sessions map[string]rempart.Caller
	n        int
	throttle bool
}

type user struct {
	password, code string
	caller         rempart.Caller
}

func newFakeSessions() *fakeSessions {
	return &fakeSessions{
		users: map[string]user{
			"ada@example.com": {password: "correct horse", caller: sysAdmin},
			"tom@example.com": {password: "battery staple", code: "123456", caller: tenantAdmin},
		},
		sessions: map[string]rempart.Caller{"tok-admin": sysAdmin, "tok-tenant": tenantAdmin},
	}
}

func (f *fakeSessions) SignIn(ctx context.Context, in web.SignIn) (web.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.throttle {
		return web.Session{}, &rempart.Error{Code: rempart.ERATELIMIT, Message: "Too many attempts; try again in a minute.", RetryAfter: time.Minute}
	}
	u, ok := f.users[in.Email]
	if ok && u.password == in.Password && u.code != "" && in.Code == "" {
		return web.Session{Challenge: "challenge:" + in.Email}, nil // the second step is due
	}
	if !ok || u.password != in.Password || u.code != in.Code {
		return web.Session{}, rempart.Errorf(rempart.EUNAUTHORIZED, "The email address, password or code is wrong.")
	}
	f.n++
	tok := fmt.Sprintf("tok-new-%d", f.n)
	f.sessions[tok] = u.caller
	return web.Session{Token: tok, ExpiresAt: epoch.Add(12 * time.Hour)}, nil
}

func (f *fakeSessions) Resume(ctx context.Context, token string, in web.RequestInfo) (rempart.Caller, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.sessions[token]
	if !ok {
		return rempart.Caller{}, rempart.Errorf(rempart.EUNAUTHORIZED, "Sign in.")
	}
	c.IP, c.UserAgent, c.RequestID, c.CredentialID = in.IP, in.UserAgent, in.RequestID, token
	return c, nil
}

func (f *fakeSessions) SignOut(ctx context.Context, c rempart.Caller) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, c.CredentialID)
	return nil
}

var (
	errForbidden = rempart.Errorf(rempart.EFORBIDDEN, "You are not allowed to do this.")
	errNoTenant  = rempart.Errorf(rempart.ENOTFOUND, "There is no such tenant.")
)

func system(c rempart.Caller) error {
	if c.Principal.Role != rempart.RoleSystemAdmin {
		return errForbidden
	}
	return nil
}

type fakeTenants struct {
	mu      sync.Mutex
	tenants []rempart.Tenant
	n       int
}

func newFakeTenants() *fakeTenants {
	return &fakeTenants{tenants: []rempart.Tenant{
		{ID: "ten_acme", Name: "Acme", Status: rempart.TenantActive, CreatedAt: epoch, UpdatedAt: epoch},
		{ID: "ten_globex", Name: "Globex", Status: rempart.TenantSuspended, CreatedAt: epoch.Add(time.Hour), UpdatedAt: epoch.Add(2 * time.Hour)},
	}}
}

func (f *fakeTenants) Tenants(ctx context.Context, c rempart.Caller) ([]rempart.Tenant, error) {
	if err := system(c); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tenants), nil
}

func (f *fakeTenants) find(c rempart.Caller, id string) (int, error) {
	if c.Principal.Role != rempart.RoleSystemAdmin && c.Principal.TenantID != id {
		return 0, errNoTenant
	}
	for i, t := range f.tenants {
		if t.ID == id {
			return i, nil
		}
	}
	return 0, errNoTenant
}

func (f *fakeTenants) Tenant(ctx context.Context, c rempart.Caller, id string) (rempart.Tenant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(c, id)
	if err != nil {
		return rempart.Tenant{}, err
	}
	return f.tenants[i], nil
}

func (f *fakeTenants) CreateTenant(ctx context.Context, c rempart.Caller, name string) (rempart.Tenant, error) {
	if err := system(c); err != nil {
		return rempart.Tenant{}, err
	}
	if name == "" || name[0] == '<' {
		return rempart.Tenant{}, rempart.Errorf(rempart.EINVALID, "A tenant name is 1 to 100 characters.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	t := rempart.Tenant{ID: fmt.Sprintf("ten_new%d", f.n), Name: name, Status: rempart.TenantActive, CreatedAt: epoch, UpdatedAt: epoch}
	f.tenants = append(f.tenants, t)
	return t, nil
}

func (f *fakeTenants) SetTenantStatus(ctx context.Context, c rempart.Caller, id, status string) (rempart.Tenant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(c, id)
	if err != nil {
		return rempart.Tenant{}, err
	}
	if err := system(c); err != nil {
		return rempart.Tenant{}, err
	}
	f.tenants[i].Status = status
	return f.tenants[i], nil
}

func (f *fakeTenants) DeleteTenant(ctx context.Context, c rempart.Caller, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, err := f.find(c, id)
	if err != nil {
		return err
	}
	if err := system(c); err != nil {
		return err
	}
	f.tenants = slices.Delete(f.tenants, i, i+1)
	return nil
}

func (f *fakeTenants) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tenants)
}

type fakeAccounts struct {
	mu       sync.Mutex
	accounts []rempart.ServiceAccount
	keys     []rempart.APIKey
}

func newFakeAccounts() *fakeAccounts {
	return &fakeAccounts{
		accounts: []rempart.ServiceAccount{{ID: "sa_crm", TenantID: "ten_acme", Name: "crm-sync", Role: rempart.RoleWriter, CreatedAt: epoch}},
		keys:     []rempart.APIKey{{ID: "key_1", PrincipalID: "sa_crm", TenantID: "ten_acme", CreatedAt: epoch, ExpiresAt: epoch.Add(90 * 24 * time.Hour)}},
	}
}

func mayManage(c rempart.Caller, tenant string) error {
	if c.Principal.Role == rempart.RoleSystemAdmin || c.Principal.TenantID == tenant && c.Principal.Role == rempart.RoleAdmin {
		return nil
	}
	return errNoTenant
}

func (f *fakeAccounts) ServiceAccounts(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.ServiceAccount, error) {
	if err := mayManage(c, tenant); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rempart.ServiceAccount
	for _, a := range f.accounts {
		if a.TenantID == tenant {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeAccounts) CreateServiceAccount(ctx context.Context, c rempart.Caller, tenant string, in rempart.ServiceAccountCreate) (rempart.ServiceAccount, error) {
	if err := mayManage(c, tenant); err != nil {
		return rempart.ServiceAccount{}, err
	}
	if in.Name == "" || !slices.Contains(rempart.TenantRoles, in.Role) {
		return rempart.ServiceAccount{}, rempart.Errorf(rempart.EINVALID, "A service account needs a name and a tenant role.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := rempart.ServiceAccount{ID: fmt.Sprintf("sa_%d", len(f.accounts)+1), TenantID: tenant, Name: in.Name, Role: in.Role, CreatedAt: epoch}
	f.accounts = append(f.accounts, a)
	return a, nil
}

func (f *fakeAccounts) APIKeys(ctx context.Context, c rempart.Caller, tenant, account string) ([]rempart.APIKey, error) {
	if err := mayManage(c, tenant); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rempart.APIKey
	for _, k := range f.keys {
		if k.PrincipalID == account {
			out = append(out, k)
		}
	}
	return out, nil
}

func (f *fakeAccounts) CreateAPIKey(ctx context.Context, c rempart.Caller, tenant, account string, in rempart.APIKeyCreate) (rempart.APIKeyCreated, error) {
	if err := mayManage(c, tenant); err != nil {
		return rempart.APIKeyCreated{}, err
	}
	if in.ExpiresInDays > 90 {
		return rempart.APIKeyCreated{}, rempart.Errorf(rempart.EINVALID, "A key lives at most 90 days.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := rempart.APIKey{ID: fmt.Sprintf("key_%d", len(f.keys)+1), PrincipalID: account, TenantID: tenant, CreatedAt: epoch, ExpiresAt: epoch.Add(90 * 24 * time.Hour)}
	f.keys = append(f.keys, k)
	return rempart.APIKeyCreated{APIKey: k, Secret: "rk_SECRETVALUE" + k.ID}, nil
}

func (f *fakeAccounts) RevokeAPIKey(ctx context.Context, c rempart.Caller, tenant, account, keyID string) error {
	if err := mayManage(c, tenant); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, k := range f.keys {
		if k.ID == keyID && k.PrincipalID == account {
			at := epoch
			f.keys[i].RevokedAt = &at
			return nil
		}
	}
	return rempart.Errorf(rempart.ENOTFOUND, "There is no such key.")
}

// fakeAudit records what it was asked.
type fakeAudit struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeAudit) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeAudit) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

func auditEntries(tenant string, start uint64, limit int) rempart.AuditList {
	var out rempart.AuditList
	for i := start; i < start+uint64(limit) && i < 120; i++ {
		out.Entries = append(out.Entries, rempart.AuditEntry{Index: i, Time: epoch.Add(time.Duration(i) * time.Minute), TenantID: tenant,
			PrincipalID: "usr_admin", Action: "tenant.read", Resource: "tenants/" + tenant, Outcome: rempart.OutcomeSuccess, IP: "192.0.2.1"})
	}
	if len(out.Entries) == limit {
		out.NextCursor = fmt.Sprint(start + uint64(limit))
	}
	return out
}

func (f *fakeAudit) TenantEntries(ctx context.Context, c rempart.Caller, tenant string, start uint64, limit int, action, principal string) (rempart.AuditList, error) {
	f.record(fmt.Sprintf("tenant %s start=%d limit=%d action=%s principal=%s", tenant, start, limit, action, principal))
	if err := mayManage(c, tenant); err != nil {
		return rempart.AuditList{}, err
	}
	return auditEntries(tenant, start, limit), nil
}

func (f *fakeAudit) Entries(ctx context.Context, c rempart.Caller, start uint64, limit int, action, principal string) (rempart.AuditList, error) {
	f.record(fmt.Sprintf("all start=%d limit=%d action=%s principal=%s", start, limit, action, principal))
	if err := system(c); err != nil {
		return rempart.AuditList{}, err
	}
	return auditEntries("", start, limit), nil
}

type fakeKeys struct{ rotations int }

func (f *fakeKeys) Inventory(ctx context.Context, c rempart.Caller) (rempart.KeyInventory, error) {
	if err := system(c); err != nil {
		return rempart.KeyInventory{}, err
	}
	return rempart.KeyInventory{RootSource: "local", ActiveRoot: "root_2",
		RootVersions: []rempart.RootKeyVersion{{ID: "root_2", Active: true, Refs: 3}, {ID: "root_1", Refs: 0}},
		Tenants:      []rempart.TenantKeys{tenantKeys("ten_acme")}}, nil
}

func (f *fakeKeys) RotateRoot(ctx context.Context, c rempart.Caller) (rempart.Job, error) {
	if err := system(c); err != nil {
		return rempart.Job{}, err
	}
	f.rotations++
	return rempart.Job{ID: "job_rot"}, nil
}

func tenantKeys(tenant string) rempart.TenantKeys {
	return rempart.TenantKeys{TenantID: tenant,
		KEKs:     []rempart.KEKInfo{{ID: "kek_1", Wrapper: "root_2", CreatedAt: epoch, Active: true}},
		DataKeys: []rempart.DataKeyInfo{{ID: "dk_1", KEKID: "kek_1", CreatedAt: epoch, Active: true, Seals: 42, Records: 40, Attachments: 2}}}
}

// fakeTenantKeys keeps, per tenant, the wrapper of its own key ("" for the
// root key).
type fakeTenantKeys struct {
	rotated  []string
	customer map[string]string
	stepUp   bool // changes need a recent second factor
}

func (f *fakeTenantKeys) Inventory(ctx context.Context, c rempart.Caller, tenant string) (rempart.TenantKeys, error) {
	if err := mayManage(c, tenant); err != nil {
		return rempart.TenantKeys{}, err
	}
	k := tenantKeys(tenant)
	if w := f.customer[tenant]; w != "" {
		k.KEKs[0].Wrapper = w
	}
	return k, nil
}

func (f *fakeTenantKeys) Rotate(ctx context.Context, c rempart.Caller, tenant string) (rempart.Job, error) {
	if err := mayManage(c, tenant); err != nil {
		return rempart.Job{}, err
	}
	f.rotated = append(f.rotated, tenant)
	return rempart.Job{ID: "job_trot"}, nil
}

// adminOf is the vault's rule for a tenant's keys and retention: the
// tenant's admins and system administrators; another tenant is not found,
// another role forbidden.
func adminOf(c rempart.Caller, tenant string) error {
	switch {
	case c.Principal.Role == rempart.RoleSystemAdmin:
		return nil
	case c.Principal.TenantID != tenant:
		return errNoTenant
	case c.Principal.Role != rempart.RoleAdmin:
		return errForbidden
	}
	return nil
}

func (f *fakeTenantKeys) SetCustomerKey(ctx context.Context, c rempart.Caller, tenant, uri string) (rempart.TenantKeys, error) {
	if err := adminOf(c, tenant); err != nil {
		return rempart.TenantKeys{}, err
	}
	if f.stepUp && !c.RecentMFA {
		return rempart.TenantKeys{}, rempart.Errorf(rempart.EMFAREQUIRED, "This action needs a second factor proven in the last minutes.")
	}
	var wrapper string
	switch {
	case strings.Contains(uri, "pin-value"):
		return rempart.TenantKeys{}, rempart.Errorf(rempart.EINVALID, "The key at that URI cannot be used: A PKCS#11 URI for a tenant's key must read its PIN from a file (pin-source), not carry it.")
	case strings.HasPrefix(uri, "pkcs11:token=acme;object=acme-cmk"):
		wrapper = "cmk:pkcs11:acme/acme-cmk-1"
	case strings.HasPrefix(uri, "awskms://"):
		wrapper = "cmk:kms:" + strings.SplitN(uri, "?", 2)[0]
	default:
		return rempart.TenantKeys{}, rempart.Errorf(rempart.EINVALID, "The key at that URI cannot be used: it could not be opened.")
	}
	if f.customer == nil {
		f.customer = map[string]string{}
	}
	f.customer[tenant] = wrapper
	return f.Inventory(ctx, c, tenant)
}

func (f *fakeTenantKeys) RemoveCustomerKey(ctx context.Context, c rempart.Caller, tenant string) (rempart.TenantKeys, error) {
	if err := adminOf(c, tenant); err != nil {
		return rempart.TenantKeys{}, err
	}
	if f.customer[tenant] == "" {
		return rempart.TenantKeys{}, rempart.Errorf(rempart.ENOTFOUND, "The tenant has no key of its own.")
	}
	delete(f.customer, tenant)
	return f.Inventory(ctx, c, tenant)
}

// fakeRetention keeps rules per tenant ("" : the default) with the
// vault's checks: authorisation first, then the collection name, then the
// values read, within 1 to 3650 days; the deployment keeps 30 days.
type fakeRetention struct {
	mu    sync.Mutex
	rules map[string]map[string]rempart.RetentionRule
}

var collectionName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

func (f *fakeRetention) Retention(ctx context.Context, c rempart.Caller, tenant string) (rempart.Retention, error) {
	if err := adminOf(c, tenant); err != nil {
		return rempart.Retention{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := rempart.Retention{TenantID: tenant, Default: rempart.RetentionRule{RestorableDays: 30}, DefaultSource: "deployment",
		Rules: []rempart.RetentionRule{}, MinDays: 1, MaxDays: 3650}
	names := slices.Sorted(maps.Keys(f.rules[tenant]))
	for _, n := range names {
		r := f.rules[tenant][n]
		if n == "" {
			out.Default, out.DefaultSource = r, "tenant"
			continue
		}
		out.Rules = append(out.Rules, r)
	}
	return out, nil
}

func (f *fakeRetention) set(c rempart.Caller, tenant, collection string, isDefault bool, read func(*rempart.RetentionRuleSet) error) (rempart.RetentionRule, error) {
	if err := adminOf(c, tenant); err != nil {
		return rempart.RetentionRule{}, err
	}
	if !isDefault && !collectionName.MatchString(collection) {
		return rempart.RetentionRule{}, rempart.Errorf(rempart.EINVALID, "Collection names are 1 to 63 characters: a lowercase letter, then lowercase letters, digits, '_' or '-'.")
	}
	var in rempart.RetentionRuleSet
	if err := read(&in); err != nil {
		return rempart.RetentionRule{}, err
	}
	if in.RestorableDays < 1 || in.RestorableDays > 3650 || in.MaxAgeDays != 0 && (in.MaxAgeDays < 1 || in.MaxAgeDays > 3650) {
		return rempart.RetentionRule{}, rempart.Errorf(rempart.EINVALID, "restorable_days is required: how many days a deleted record stays restorable, between 1 and 3650 (got %d).", in.RestorableDays)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules == nil {
		f.rules = map[string]map[string]rempart.RetentionRule{}
	}
	if f.rules[tenant] == nil {
		f.rules[tenant] = map[string]rempart.RetentionRule{}
	}
	at := epoch
	r := rempart.RetentionRule{Collection: collection, RestorableDays: in.RestorableDays, MaxAgeDays: in.MaxAgeDays, UpdatedAt: &at}
	f.rules[tenant][collection] = r
	return r, nil
}

func (f *fakeRetention) SetRetentionDefault(ctx context.Context, c rempart.Caller, tenant string, read func(*rempart.RetentionRuleSet) error) (rempart.RetentionRule, error) {
	return f.set(c, tenant, "", true, read)
}

func (f *fakeRetention) SetRetentionRule(ctx context.Context, c rempart.Caller, tenant, collection string, read func(*rempart.RetentionRuleSet) error) (rempart.RetentionRule, error) {
	return f.set(c, tenant, collection, false, read)
}

func (f *fakeRetention) remove(c rempart.Caller, tenant, collection string, isDefault bool) error {
	if err := adminOf(c, tenant); err != nil {
		return err
	}
	if !isDefault && !collectionName.MatchString(collection) {
		return rempart.Errorf(rempart.EINVALID, "Collection names are 1 to 63 characters.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.rules[tenant][collection]; !ok {
		return rempart.Errorf(rempart.ENOTFOUND, "There is no such rule.")
	}
	delete(f.rules[tenant], collection)
	return nil
}

func (f *fakeRetention) DeleteRetentionDefault(ctx context.Context, c rempart.Caller, tenant string) error {
	return f.remove(c, tenant, "", true)
}

func (f *fakeRetention) DeleteRetentionRule(ctx context.Context, c rempart.Caller, tenant, collection string) error {
	return f.remove(c, tenant, collection, false)
}

// rule returns a tenant's rule as stored ("" : the default).
func (f *fakeRetention) rule(tenant, collection string) (rempart.RetentionRule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rules[tenant][collection]
	return r, ok
}

type fakeBackups struct{ requested []string }

func (f *fakeBackups) RequestBackup(ctx context.Context, c rempart.Caller) (rempart.Job, error) {
	if err := system(c); err != nil {
		return rempart.Job{}, err
	}
	f.requested = append(f.requested, "backup")
	return rempart.Job{ID: "job_b"}, nil
}

func (f *fakeBackups) RequestVerify(ctx context.Context, c rempart.Caller, id string) (rempart.Job, error) {
	if err := system(c); err != nil {
		return rempart.Job{}, err
	}
	f.requested = append(f.requested, "verify "+id)
	return rempart.Job{ID: "job_v"}, nil
}

func (f *fakeBackups) RequestRestoreTest(ctx context.Context, c rempart.Caller) (rempart.Job, error) {
	if err := system(c); err != nil {
		return rempart.Job{}, err
	}
	f.requested = append(f.requested, "restore-test")
	return rempart.Job{ID: "job_r"}, nil
}

func (f *fakeBackups) Records(ctx context.Context, c rempart.Caller) (rempart.BackupList, error) {
	if err := system(c); err != nil {
		return rempart.BackupList{}, err
	}
	done := epoch.Add(3 * time.Minute)
	return rempart.BackupList{VerifierKey: "test/backup+1234+AAAA", Backups: []rempart.Backup{
		{ID: "bck_2", Status: "complete", RootKeyID: "root_2", CreatedAt: epoch, FinishedAt: &done, DataBytes: 5 << 20, Rows: 1200, Objects: 3},
		{ID: "bck_1", Status: "failed", RootKeyID: "root_2", CreatedAt: epoch.Add(-24 * time.Hour), Error: "object store unavailable"},
	}}, nil
}

func (f *fakeBackups) History(ctx context.Context, c rempart.Caller, limit int) (rempart.RestoreTestList, error) {
	if err := system(c); err != nil {
		return rempart.RestoreTestList{}, err
	}
	var out rempart.RestoreTestList
	for i := range 4 {
		outcome := rempart.OutcomeSuccess
		if i == 1 {
			outcome = rempart.OutcomeFailure
		}
		out.RestoreTests = append(out.RestoreTests, rempart.RestoreTest{ID: fmt.Sprintf("rt_%d", 4-i), BackupID: "bck_2",
			StartedAt: epoch.Add(-time.Duration(i) * 24 * time.Hour), DurationMilli: int64(1500 + 700*i), RestoreMilli: int64(1000 + 500*i), VerifyMilli: int64(500 + 200*i),
			Outcome: outcome, Tables: 12, Rows: 1200, Objects: 3, DataBytes: 5 << 20, AuditEntries: 900})
	}
	return out, nil
}

type fakeJobs struct{}

func (fakeJobs) List(ctx context.Context, c rempart.Caller, q jobs.Query) (rempart.JobList, error) {
	if err := system(c); err != nil {
		return rempart.JobList{}, err
	}
	started := epoch
	all := []rempart.Job{
		{ID: "job_2", Kind: "backup.create", Status: jobs.Running, Done: 30, Total: 120, Attempts: 1, CreatedAt: epoch, Started: &started},
		{ID: "job_1", Kind: "keys.root_rewrap", Status: jobs.Done, Attempts: 1, CreatedAt: epoch.Add(-time.Hour), Finished: &started},
	}
	var out rempart.JobList
	for _, j := range all {
		if q.Status == "" || j.Status == q.Status {
			out.Jobs = append(out.Jobs, j)
		}
	}
	return out, nil
}
