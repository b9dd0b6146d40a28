package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
)

// TestReviewPagesGolden pins the role change and access review pages
// (IAM-9, IAM-10); regenerate with: go test ./web -run TestReviewPagesGolden -update
func TestReviewPagesGolden(t *testing.T) {
	c := newConsole(t)
	for _, tc := range []struct{ file, path, session string }{
		{"access-reviews.html", "/tenants/ten_acme/access-reviews", "tok-tenant"},
		{"access-review.html", "/tenants/ten_acme/access-reviews/arc_q1", "tok-tenant"},
		{"role-changes.html", "/tenants/ten_acme/role-changes", "tok-tenant"},
		{"staff-access-reviews.html", "/staff/access-reviews", "tok-admin"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r := c.get(tc.path, tc.session)
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

// TestReviewPages: another tenant's reviews are not found, the staff's are
// the system administrators' only, decisions and requests reach the service
// with what the form said, refusals show on the page, and the export is a
// download.
func TestReviewPages(t *testing.T) {
	c := newConsole(t)
	wantStatus(t, c.get("/tenants/ten_globex/access-reviews", "tok-tenant"), http.StatusNotFound)
	wantStatus(t, c.get("/tenants/ten_globex/role-changes", "tok-tenant"), http.StatusNotFound)
	wantStatus(t, c.get("/staff/access-reviews", "tok-tenant"), http.StatusNotFound)
	wantStatus(t, c.get("/tenants/ten_acme/access-reviews/arc_other", "tok-tenant"), http.StatusNotFound)

	r := c.post("/tenants/ten_acme/access-reviews/arc_q1/items/sa_crm", "tok-tenant", url.Values{"decision": {"change_role"}, "role": {"reader"}, "note": {"Reads only"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/tenants/ten_acme/access-reviews/arc_q1?done=decided")
	r = c.post("/tenants/ten_acme/access-reviews/arc_q1/items/sa_crm", "tok-tenant", url.Values{"decision": {"revoke"}, "role": {"admin"}})
	wantStatus(t, r, http.StatusSeeOther)
	want := []rempart.ReviewDecision{{Decision: "change_role", Role: "reader", Note: "Reads only"}, {Decision: "revoke"}}
	if diff := cmp.Diff(want, c.reviews.decisions); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	r = c.post("/tenants/ten_acme/access-reviews/arc_q1/items/usr_tad", "tok-tenant", url.Values{"decision": {"keep"}})
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, []string{`role="alert">Another reviewer must decide on your own account.`}, nil)
	// Without the CSRF token nothing is decided.
	r = c.do(request{method: http.MethodPost, path: "/tenants/ten_acme/access-reviews/arc_q1/items/sa_crm", session: "tok-tenant", form: url.Values{"decision": {"keep"}}})
	wantStatus(t, r, http.StatusForbidden)
	if len(c.reviews.decisions) != 2 {
		t.Fatalf("a decision without the CSRF token reached the service: %+v", c.reviews.decisions)
	}

	r = c.post("/tenants/ten_acme/role-changes", "tok-tenant", url.Values{"principal_id": {"usr_bob"}, "role": {"reader"}, "reason": {"Moved"}})
	wantLocation(t, r, "/tenants/ten_acme/role-changes?done=role-change-requested")
	r = c.post("/tenants/ten_acme/role-changes", "tok-tenant", url.Values{"principal_id": {"usr_bob"}, "role": {"writer"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{"reason must be 1 to 500 characters", `<option value="writer" selected>`}, nil)
	r = c.post("/tenants/ten_acme/role-changes/rch_1/approve", "tok-tenant", nil)
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, []string{"Another person must decide on a request you made."}, nil)
	r = c.post("/tenants/ten_acme/role-changes/rch_1/approve", "tok-admin", nil)
	wantLocation(t, r, "/tenants/ten_acme/role-changes?done=role-change-approved")

	r = c.post("/tenants/ten_acme/access-reviews", "tok-tenant", url.Values{"due_in_days": {"abc"}})
	wantStatus(t, r, http.StatusBadRequest)
	r = c.post("/tenants/ten_acme/access-reviews", "tok-tenant", url.Values{"name": {"Spot"}, "due_in_days": {"7"}})
	wantLocation(t, r, "/tenants/ten_acme/access-reviews/arc_new?done=campaign-created")

	r = c.get("/tenants/ten_acme/access-reviews/arc_q1/export?format=csv", "tok-tenant")
	wantStatus(t, r, http.StatusOK)
	if r.Header.Get("Content-Disposition") != `attachment; filename="access-review-arc_q1.csv"` || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("export headers: %v", r.Header)
	}
}
