package guard_test

import (
	"slices"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

func caller(tenant, role string) rempart.Caller {
	return rempart.Caller{Principal: rempart.Principal{ID: "sa_1", TenantID: tenant, Role: role}}
}

func TestAuthorize(t *testing.T) {
	a := rempart.Tenant{ID: "ten_a", Status: rempart.TenantActive}
	sus := rempart.Tenant{ID: "ten_s", Status: rempart.TenantSuspended}
	cases := []struct {
		name string
		c    rempart.Caller
		t    rempart.Tenant
		p    guard.Permission
		code string
	}{
		{"writer writes own tenant", caller("ten_a", rempart.RoleWriter), a, guard.RecordsWrite, ""},
		{"reader cannot write", caller("ten_a", rempart.RoleReader), a, guard.RecordsWrite, rempart.EFORBIDDEN},
		{"reader reads", caller("ten_a", rempart.RoleReader), a, guard.RecordsRead, ""},
		{"other tenant is not found", caller("ten_b", rempart.RoleAdmin), a, guard.RecordsRead, rempart.ENOTFOUND},
		{"suspended tenant", caller("ten_s", rempart.RoleAdmin), sus, guard.RecordsRead, rempart.EFORBIDDEN},
		{"anonymous", rempart.Caller{}, a, guard.RecordsRead, rempart.EUNAUTHORIZED},
		{"system admin has no record access", caller("", rempart.RoleSystemAdmin), a, guard.RecordsRead, rempart.EFORBIDDEN},
		{"system admin manages a suspended tenant", caller("", rempart.RoleSystemAdmin), sus, guard.TenantsManage, ""},
		{"tenant admin cannot manage tenants", caller("ten_a", rempart.RoleAdmin), a, guard.TenantsManage, rempart.EFORBIDDEN},
		{"unknown role", caller("ten_a", "root"), a, guard.RecordsRead, rempart.EFORBIDDEN},
		{"tenant admin sets retention rules", caller("ten_a", rempart.RoleAdmin), a, guard.Retention, ""},
		{"writer cannot set retention rules", caller("ten_a", rempart.RoleWriter), a, guard.Retention, rempart.EFORBIDDEN},
		{"system admin sets any tenant's retention rules", caller("", rempart.RoleSystemAdmin), a, guard.Retention, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := guard.Authorize(c.c, c.t, c.p)
			if got := rempart.ErrorCode(err); got != c.code {
				t.Fatalf("got code %q (%v), want %q", got, err, c.code)
			}
			if c.code == "" && (!s.Valid() || s.TenantID() != c.t.ID || s.Permission() != c.p) {
				t.Fatalf("scope: got %+v, want one bound to %s for %s", s, c.t.ID, c.p)
			}
			if c.code != "" && s.Valid() {
				t.Fatal("a refusal returned a valid scope")
			}
		})
	}
}

// TestLeastPrivilege pins the permission matrix (IAM-2): a new permission for
// a role must be a deliberate change of this test.
func TestLeastPrivilege(t *testing.T) {
	want := map[string]int{rempart.RoleSystemAdmin: 14, rempart.RoleAuditor: 4, rempart.RoleSupport: 1, rempart.RoleEngineer: 2,
		rempart.RoleAdmin: 9, rempart.RoleWriter: 4, rempart.RoleReader: 3}
	for role, ps := range guard.Matrix() {
		if len(ps) != want[role] {
			t.Errorf("%s: got %d permissions %v, want %d", role, len(ps), ps, want[role])
		}
		for _, p := range ps {
			if p == guard.Maintain {
				t.Errorf("%s holds %s: only background tasks may", role, p)
			}
			if slices.Contains(rempart.StaffRoles, role) && (p == guard.RecordsRead || p == guard.RecordsWrite) {
				t.Errorf("staff role %s holds %s: staff reach records only through grants (IAM-7)", role, p)
			}
		}
	}
	if guard.Has(rempart.RoleReader, guard.RecordsWrite) || !guard.Has(rempart.RoleWriter, guard.RecordsWrite) {
		t.Error("reader/writer split broken")
	}
}

// TestPrivileged pins which roles an invitation grants only after a second
// person's approval (IAM-10): every staff role and a tenant's admin.
func TestPrivileged(t *testing.T) {
	want := map[string]bool{
		rempart.RoleSystemAdmin: true, rempart.RoleAuditor: true, rempart.RoleSupport: true, rempart.RoleEngineer: true,
		rempart.RoleAdmin: true, rempart.RoleWriter: false, rempart.RoleReader: false,
		"superuser": true, // unknown: fail closed
	}
	for role, w := range want {
		if got := guard.Privileged(role); got != w {
			t.Errorf("Privileged(%q) = %v, want %v", role, got, w)
		}
	}
}

// TestStepUpPersonalKey: a person's own API key never passes a step-up,
// whatever the caller claims, while a session with a recent second factor
// and a service account's key do (IAM-4, IAM-6).
func TestStepUpPersonalKey(t *testing.T) {
	p := rempart.Principal{ID: "usr_1", Role: rempart.RoleSystemAdmin}
	for _, c := range []struct {
		caller rempart.Caller
		want   string
	}{
		{rempart.Caller{Principal: p, CredentialID: "pak_1", RecentMFA: true}, rempart.EMFAREQUIRED},
		{rempart.Caller{Principal: p, CredentialID: "pak_1"}, rempart.EMFAREQUIRED},
		{rempart.Caller{Principal: p, CredentialID: "ses_1"}, rempart.EMFAREQUIRED},
		{rempart.Caller{Principal: p, CredentialID: "ses_1", RecentMFA: true}, ""},
		{rempart.Caller{Principal: rempart.Principal{ID: "sa_1", Role: rempart.RoleSystemAdmin}, CredentialID: "key_1"}, ""},
	} {
		if got := rempart.ErrorCode(guard.StepUp(c.caller)); got != c.want {
			t.Errorf("%s (recent MFA %v): got %q, want %q", c.caller.CredentialID, c.caller.RecentMFA, got, c.want)
		}
	}
}

// TestStaffStepUp: a change in the staff scope needs a recent second
// factor; one in a tenant's scope does not (IAM-4).
func TestStaffStepUp(t *testing.T) {
	stale := rempart.Caller{Principal: rempart.Principal{ID: "usr_1", Role: rempart.RoleSystemAdmin}, CredentialID: "ses_1"}
	if got := rempart.ErrorCode(guard.StaffStepUp(stale, "")); got != rempart.EMFAREQUIRED {
		t.Errorf("staff scope without a recent factor: got %q, want %q", got, rempart.EMFAREQUIRED)
	}
	if err := guard.StaffStepUp(stale, "ten_1"); err != nil {
		t.Errorf("a tenant's scope: got %v, want nil", err)
	}
	stale.RecentMFA = true
	if err := guard.StaffStepUp(stale, ""); err != nil {
		t.Errorf("staff scope with a recent factor: got %v, want nil", err)
	}
}
