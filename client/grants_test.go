package client_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

// TestGrantRoutes checks what each grant method sends and how it decodes
// the answer (IAM-7).
func TestGrantRoutes(t *testing.T) {
	g := rempart.Grant{ID: "grt_1", TenantID: "ten_1", RequesterID: "usr_1", Reason: "ticket 1234: check", Scope: "read", DurationMinutes: 60, Status: "pending", CreatedAt: t0}
	gJS := `{"id":"grt_1","tenant_id":"ten_1","requester_id":"usr_1","reason":"ticket 1234: check","scope":"read","duration_minutes":60,"status":"pending","tenant_approval_required":false,"created_at":` + t0JSON + `}`
	tests := []struct {
		name                      string
		answer                    answer
		call                      func(c *client.Client) (any, error)
		want                      any
		method, path, query, body string
	}{
		{"request", jsonAnswer(201, gJS), func(c *client.Client) (any, error) {
			return c.RequestGrant(ctx, rempart.GrantCreate{TenantID: "ten_1", Reason: "ticket 1234: check", Scope: "read", DurationMinutes: 60})
		}, g, "POST", "/api/v1/grants", "", `{"tenant_id":"ten_1","reason":"ticket 1234: check","scope":"read","duration_minutes":60}`},
		{"list", jsonAnswer(200, `{"grants":[`+gJS+`]}`), func(c *client.Client) (any, error) { return c.Grants(ctx, "ten_1") }, []rempart.Grant{g}, "GET", "/api/v1/grants", "tenant=ten_1", ""},
		{"get", jsonAnswer(200, gJS), func(c *client.Client) (any, error) { return c.Grant(ctx, "grt_1") }, g, "GET", "/api/v1/grants/grt_1", "", ""},
		{"approve", jsonAnswer(200, gJS), func(c *client.Client) (any, error) { return c.ApproveGrant(ctx, "grt_1") }, g, "POST", "/api/v1/grants/grt_1/approve", "", ""},
		{"deny", jsonAnswer(200, gJS), func(c *client.Client) (any, error) { return c.DenyGrant(ctx, "grt_1") }, g, "POST", "/api/v1/grants/grt_1/deny", "", ""},
		{"revoke", jsonAnswer(200, gJS), func(c *client.Client) (any, error) { return c.RevokeGrant(ctx, "grt_1") }, g, "POST", "/api/v1/grants/grt_1/revoke", "", ""},
		{"tenant list", jsonAnswer(200, `{"grants":[`+gJS+`]}`), func(c *client.Client) (any, error) { return c.TenantGrants(ctx, "ten_1") }, []rempart.Grant{g}, "GET", "/api/v1/tenants/ten_1/grants", "", ""},
		{"tenant get", jsonAnswer(200, `{"grant":`+gJS+`,"accesses":[{"index":7,"time":`+t0JSON+`,"tenant_id":"ten_1","action":"record.read","outcome":"success","grant_id":"grt_1"}]}`),
			func(c *client.Client) (any, error) { return c.TenantGrant(ctx, "ten_1", "grt_1") },
			rempart.GrantDetail{Grant: g, Accesses: []rempart.AuditEntry{{Index: 7, Time: t0, TenantID: "ten_1", Action: "record.read", Outcome: "success", GrantID: "grt_1"}}},
			"GET", "/api/v1/tenants/ten_1/grants/grt_1", "", ""},
		{"tenant approve", jsonAnswer(200, gJS), func(c *client.Client) (any, error) { return c.TenantApproveGrant(ctx, "ten_1", "grt_1") }, g, "POST", "/api/v1/tenants/ten_1/grants/grt_1/approve", "", ""},
		{"tenant deny", jsonAnswer(200, gJS), func(c *client.Client) (any, error) { return c.TenantDenyGrant(ctx, "ten_1", "grt_1") }, g, "POST", "/api/v1/tenants/ten_1/grants/grt_1/deny", "", ""},
		{"tenant revoke", jsonAnswer(200, gJS), func(c *client.Client) (any, error) { return c.TenantRevokeGrant(ctx, "ten_1", "grt_1") }, g, "POST", "/api/v1/tenants/ten_1/grants/grt_1/revoke", "", ""},
		{"settings", jsonAnswer(200, `{"tenant_id":"ten_1","require_approval":true,"updated_at":`+t0JSON+`}`), func(c *client.Client) (any, error) { return c.GrantSettings(ctx, "ten_1") },
			rempart.GrantSettings{TenantID: "ten_1", RequireApproval: true, UpdatedAt: t0}, "GET", "/api/v1/tenants/ten_1/grant-settings", "", ""},
		{"set settings", jsonAnswer(200, `{"tenant_id":"ten_1","require_approval":true,"updated_at":`+t0JSON+`}`), func(c *client.Client) (any, error) { return c.SetGrantSettings(ctx, "ten_1", true) },
			rempart.GrantSettings{TenantID: "ten_1", RequireApproval: true, UpdatedAt: t0}, "PUT", "/api/v1/tenants/ten_1/grant-settings", "", `{"require_approval":true}`},
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
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}
