package web_test

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Rendered pages are compared with golden files; after a deliberate change,
// regenerate them with: go test ./web -run TestGolden -update
func TestGolden(t *testing.T) {
	c := newConsole(t)
	// A tenant with its own key, and one with retention rules.
	c.tenantKeys.customer = map[string]string{"ten_globex": "cmk:pkcs11:globex/globex-cmk-1"}
	at := epoch
	c.retention.rules = map[string]map[string]rempart.RetentionRule{"ten_acme": {
		"":      {RestorableDays: 14, UpdatedAt: &at},
		"calls": {Collection: "calls", RestorableDays: 7, MaxAgeDays: 1095, UpdatedAt: &at},
		"notes": {Collection: "notes", RestorableDays: 90, UpdatedAt: &at},
	}}
	signin := &http.Cookie{Name: "__Host-rempart-signin", Value: "0123456789abcdefghjkmnpqrstvwxyz"}
	cases := []struct {
		file, path, session string
		cookies             []*http.Cookie
	}{
		{"sign-in.html", "/sign-in?next=%2Ftenants", "", []*http.Cookie{signin}},
		{"home.html", "/", "tok-admin", nil},
		{"tenants.html", "/tenants", "tok-admin", nil},
		{"backups.html", "/backups", "tok-admin", nil},
		{"audit-tenant.html", "/audit?action=tenant.read", "tok-tenant", nil},
		{"not-found.html", "/tenants/ten_globex/keys", "tok-tenant", nil},
		{"security.html", "/account/security", "tok-admin", nil},
		{"accounts.html", "/tenants/ten_acme/service-accounts", "tok-tenant", nil},
		{"account.html", "/tenants/ten_acme/service-accounts/sa_crm", "tok-tenant", nil},
		{"keys.html", "/keys", "tok-admin", nil},
		{"tenant-keys.html", "/tenants/ten_acme/keys", "tok-tenant", nil},
		{"tenant-keys-customer.html", "/tenants/ten_globex/keys?done=customer-key-set", "tok-admin", nil},
		{"retention.html", "/tenants/ten_acme/retention", "tok-tenant", nil},
		{"retention-empty.html", "/tenants/ten_globex/retention", "tok-admin", nil},
		{"tenant-delete.html", "/tenants/ten_acme/delete", "tok-admin", nil},
		{"jobs.html", "/jobs", "tok-admin", nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			r := c.do(request{path: tc.path, session: tc.session, cookies: tc.cookies})
			got := r.body
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", tc.path, path, diff)
			}
		})
	}
}
