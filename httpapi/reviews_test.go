package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

// TestAccessGovernance runs IAM-10 and IAM-9 over HTTP with people's own
// access tokens: a role change needs a second person, the subject's token
// carries the new role at once, a tenant's admin never reaches another
// tenant's campaign, a revoke stops the user's token at once, and a closed
// campaign downloads as CSV and JSON evidence.
func TestAccessGovernance(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	adminCaller, adminKey := s.admin()
	acme, other := s.tenant(adminCaller, "Acme"), s.tenant(adminCaller, "Other")
	sys := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	_, ada := person(t, s, sys, acme, "ada@acme.example", rempart.RoleAdmin)
	bobU, bob := person(t, s, sys, acme, "bob@acme.example", rempart.RoleWriter)
	_, eve := person(t, s, sys, other, "eve@other.example", rempart.RoleAdmin)

	rc, err := ada.RequestRoleChange(ctx, acme, rempart.RoleChangeCreate{PrincipalID: bobU.ID, Role: rempart.RoleReader, Reason: "Reads only now"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ada.ApproveRoleChange(ctx, acme, rc.ID, rempart.RoleChangeDecision{}); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("the requester approves: got %v, want forbidden", err)
	}
	if _, err := eve.ApproveRoleChange(ctx, acme, rc.ID, rempart.RoleChangeDecision{}); code(err) != rempart.ENOTFOUND {
		t.Fatalf("another tenant's admin approves: got %v, want not found", err)
	}
	if _, err := sys.ApproveRoleChange(ctx, acme, rc.ID, rempart.RoleChangeDecision{Note: "Agreed"}); err != nil {
		t.Fatal(err)
	}
	if me, err := bob.Me(ctx); err != nil || me.Role != rempart.RoleReader {
		t.Fatalf("bob after the approval: %+v, %v", me, err)
	}

	cp, err := ada.CreateCampaign(ctx, acme, rempart.CampaignCreate{Name: "Spot check"})
	if err != nil || cp.Accounts != 2 {
		t.Fatalf("campaign: %+v, %v", cp, err)
	}
	if _, err := eve.Campaign(ctx, other, cp.ID); code(err) != rempart.ENOTFOUND {
		t.Fatalf("another tenant's admin reads the campaign through its tenant: got %v, want not found", err)
	}
	if _, err := eve.Campaign(ctx, acme, cp.ID); code(err) != rempart.ENOTFOUND {
		t.Fatalf("another tenant's admin reads the campaign: got %v, want not found", err)
	}
	if cs, err := eve.Campaigns(ctx, other); err != nil || len(cs) != 0 {
		t.Fatalf("another tenant's campaigns: %+v, %v", cs, err)
	}
	if _, err := bob.Campaigns(ctx, acme); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("a reader lists campaigns: got %v, want forbidden", err)
	}
	if err := ada.ExportCampaign(ctx, acme, cp.ID, "csv", &strings.Builder{}); code(err) != rempart.ECONFLICT {
		t.Fatalf("exporting an open campaign: got %v, want conflict", err)
	}
	if _, err := ada.DecideReviewItem(ctx, acme, cp.ID, bobU.ID, rempart.ReviewDecision{Decision: rempart.DecisionRevoke, Note: "=cmd|' /C calc'!A0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("bob's token after the revoke: got %v, want unauthorized", err)
	}
	det, err := ada.Campaign(ctx, acme, cp.ID)
	if err != nil || det.ClosedAt != nil || len(det.Items) != 2 {
		t.Fatalf("campaign after one decision: %+v, %v", det, err)
	}
	var adaID string
	for _, it := range det.Items {
		if it.Email == "ada@acme.example" {
			adaID = it.PrincipalID
		}
	}
	if dec, err := sys.DecideReviewItem(ctx, acme, cp.ID, adaID, rempart.ReviewDecision{Decision: rempart.DecisionKeep}); err != nil || dec.Campaign.ClosedAt == nil || dec.Item.Decision != rempart.DecisionKeep {
		t.Fatalf("the last decision: %+v, %v", dec, err)
	}

	req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/tenants/"+acme+"/access-reviews/"+cp.ID+"/export", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="access-review-`+cp.ID+`.csv"` {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	var csv strings.Builder
	if err := ada.ExportCampaign(ctx, acme, cp.ID, "csv", &csv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), `revoke,,'=cmd|' /C calc'!A0,`) {
		t.Fatalf("csv evidence without the neutralised note:\n%s", csv.String())
	}
	var js strings.Builder
	if err := ada.ExportCampaign(ctx, acme, cp.ID, "json", &js); err != nil {
		t.Fatal(err)
	}
	var ev rempart.CampaignDetail
	if err := json.Unmarshal([]byte(js.String()), &ev); err != nil || ev.ID != cp.ID || len(ev.Items) != 2 || ev.ClosedAt == nil {
		t.Fatalf("json evidence: %+v, %v", ev, err)
	}
}
