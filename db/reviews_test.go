package db_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/reviews"
)

// TestRoleChangesAndReviews runs role changes (IAM-10) and access review
// campaigns (IAM-9) through the reviews and identity services on both
// dialects: two-person approval, the new role reaching open sessions, the
// snapshot's flags, decisions and their immediate effect, closing, export,
// tenant isolation, the quarterly campaign and overdue reminders.
func TestRoleChangesAndReviews(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		clock := testclock.New(time.Now())
		id := identity.New(d, clock, identity.Config{})
		rv := reviews.New(d, clock, reviews.Config{Dormant: time.Hour}) // the 90-day default: reviews unit tests
		sys := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
		sys2 := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
		a, b := newTenant(t, d, "Review A").TenantID(), newTenant(t, d, "Review B").TenantID()
		const pw = "Review-passw0rd-ok"
		person := func(tenant, email, role string) rempart.User {
			t.Helper()
			inv, err := id.Invite(ctx, sys, tenant, rempart.InvitationCreate{Email: email, Role: role})
			if err == nil && inv.Approval == rempart.ApprovalPending { // a privileged role: a second person (IAM-10)
				inv, err = id.ApproveInvitation(ctx, sys2, tenant, inv.ID, rempart.RoleChangeDecision{})
			}
			if err != nil {
				t.Fatal(err)
			}
			u, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: strings.Split(email, "@")[0], Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		signIn := func(email string) (rempart.Caller, string) {
			t.Helper()
			s, err := id.SignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: email, Password: pw}, rempart.SessionConsole)
			if err != nil {
				t.Fatal(err)
			}
			c, err := id.AuthenticateSession(ctx, rempart.Caller{}, s.Token, rempart.SessionConsole)
			if err != nil {
				t.Fatal(err)
			}
			return c, s.Token
		}
		ada := person(a, "ada@a.example", rempart.RoleAdmin)
		carol := person(a, "carol@a.example", rempart.RoleAdmin)
		dave := person(a, "dave@a.example", rempart.RoleWriter)
		crm, err := id.CreateServiceAccount(ctx, sys, a, rempart.ServiceAccountCreate{Name: "crm", Role: rempart.RoleWriter})
		if err != nil {
			t.Fatal(err)
		}
		// Two hours on, dave has never signed in: dormant.
		clock.Advance(2 * time.Hour)
		key, err := id.CreateAPIKey(ctx, sys, a, crm.ID, rempart.APIKeyCreate{})
		if err != nil {
			t.Fatal(err)
		}
		adaC, _ := signIn("ada@a.example")
		carolC, carolToken := signIn("carol@a.example")
		carolKey, err := id.CreatePersonalKey(ctx, carolC, rempart.PersonalKeyCreate{Name: "laptop", ExpiresInDays: 30})
		if err != nil {
			t.Fatal(err)
		}
		bAdmin := rempart.Caller{Principal: rempart.Principal{ID: "sa_b", TenantID: b, Role: rempart.RoleAdmin}}

		// IAM-10: the requester and the subject cannot approve; another
		// admin does, and carol's open session acts as a reader at once.
		if _, err := rv.RequestRoleChange(ctx, adaC, a, rempart.RoleChangeCreate{PrincipalID: carol.ID, Role: "owner", Reason: "x"}); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("an unknown role: got %v, want invalid", err)
		}
		if _, err := rv.RequestRoleChange(ctx, adaC, a, rempart.RoleChangeCreate{PrincipalID: carol.ID, Role: rempart.RoleReader}); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("no reason: got %v, want invalid", err)
		}
		if _, err := rv.RequestRoleChange(ctx, bAdmin, b, rempart.RoleChangeCreate{PrincipalID: carol.ID, Role: rempart.RoleReader, Reason: "x"}); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("another tenant's user through tenant B: got %v, want not found", err)
		}
		rc, err := rv.RequestRoleChange(ctx, adaC, a, rempart.RoleChangeCreate{PrincipalID: carol.ID, Role: rempart.RoleReader, Reason: "Least privilege"})
		if err != nil || rc.FromRole != rempart.RoleAdmin || rc.Status != rempart.RoleChangePending || rc.RequestedBy != ada.ID {
			t.Fatalf("request: got %+v, %v", rc, err)
		}
		for who, c := range map[string]rempart.Caller{"the requester": adaC, "the subject": carolC} {
			if _, err := rv.ApproveRoleChange(ctx, c, a, rc.ID, rempart.RoleChangeDecision{}); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
				t.Fatalf("%s approves: got %v, want forbidden", who, err)
			}
		}
		if _, err := rv.ApproveRoleChange(ctx, bAdmin, b, rc.ID, rempart.RoleChangeDecision{}); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("another tenant's admin approves: got %v, want not found", err)
		}
		if c, _ := id.AuthenticateSession(ctx, rempart.Caller{}, carolToken, rempart.SessionConsole); c.Principal.Role != rempart.RoleAdmin {
			t.Fatalf("the role changed before approval: %+v", c.Principal)
		}
		if _, err := rv.ApproveRoleChange(ctx, sys, a, rc.ID, rempart.RoleChangeDecision{Note: "ok"}); err != nil {
			t.Fatal(err)
		}
		if c, err := id.AuthenticateSession(ctx, rempart.Caller{}, carolToken, rempart.SessionConsole); err != nil || c.Principal.Role != rempart.RoleReader {
			t.Fatalf("carol's open session after approval: got %+v, %v; want the reader role", c.Principal, err)
		}
		if _, err := rv.ApproveRoleChange(ctx, sys, a, rc.ID, rempart.RoleChangeDecision{}); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("approving twice: got %v, want conflict", err)
		}
		clock.Advance(time.Second)
		rej, err := rv.RequestRoleChange(ctx, adaC, a, rempart.RoleChangeCreate{PrincipalID: dave.ID, Role: rempart.RoleAdmin, Reason: "Covers for ada"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rv.RejectRoleChange(ctx, sys, a, rej.ID, rempart.RoleChangeDecision{Note: "No need"}); err != nil {
			t.Fatal(err)
		}
		if acc, err := d.ReviewAccount(ctx, a, dave.ID); err != nil || acc.Principal.Role != rempart.RoleWriter {
			t.Fatalf("a rejected request changed the role: %+v, %v", acc, err)
		}
		list, err := rv.RoleChanges(ctx, adaC, a)
		if err != nil || len(list) != 2 || list[0].ID != rej.ID || list[0].Status != rempart.RoleChangeRejected || list[0].Note != "No need" ||
			list[1].Status != rempart.RoleChangeApproved || list[1].RequestedBy != ada.ID || list[1].DecidedBy != "sa_admin" || list[1].DecidedAt == nil {
			t.Fatalf("role changes: got %+v, %v", list, err)
		}
		if other, err := rv.RoleChanges(ctx, bAdmin, b); err != nil || len(other) != 0 {
			t.Fatalf("tenant B sees role changes: %+v, %v", other, err)
		}
		log, err := d.AuditLog(ctx, audit.Query{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, e := range log {
			if e.Resource == "tenants/"+a+"/role-changes/"+rc.ID {
				actions[e.Action+" "+e.Outcome]++
			}
		}
		if actions["role_change.request success"] != 1 || actions["role_change.approve success"] != 1 || actions["role_change.approve denied"] != 3 {
			t.Fatalf("audit of the request: %v", actions)
		}

		// IAM-9: a campaign snapshots every account with its flags.
		cp, err := rv.CreateCampaign(ctx, adaC, a, rempart.CampaignCreate{Name: "Q review", DueInDays: 7})
		if err != nil || cp.Accounts != 4 || !cp.DueAt.Equal(clock.Now().Add(7*24*time.Hour)) {
			t.Fatalf("campaign: got %+v, %v", cp, err)
		}
		det, err := rv.Campaign(ctx, adaC, a, cp.ID)
		if err != nil {
			t.Fatal(err)
		}
		flags := map[string]string{}
		for _, it := range det.Items {
			flags[it.Name] = it.Kind + " " + it.Role + " " + it.MFA + " [" + strings.Join(it.Flags, " ") + "]"
		}
		want := map[string]string{
			"ada":   "user admin none [no_mfa privileged]",
			"carol": "user reader none [no_mfa]",
			"dave":  "user writer none [dormant no_mfa]",
			"crm":   "service_account writer not_applicable []",
		}
		for k, v := range want {
			if flags[k] != v {
				t.Errorf("item %s: got %q, want %q", k, flags[k], v)
			}
		}
		if _, err := rv.Campaign(ctx, bAdmin, b, cp.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("tenant B's admin reads A's campaign through B: got %v, want not found", err)
		}
		if _, err := rv.Campaign(ctx, bAdmin, a, cp.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("tenant B's admin reads A's campaign: got %v, want not found", err)
		}
		if _, _, _, err := rv.Export(ctx, adaC, a, cp.ID, reviews.FormatJSON); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("exporting an open campaign: got %v, want conflict", err)
		}
		if _, err := rv.Decide(ctx, bAdmin, a, cp.ID, carol.ID, rempart.ReviewDecision{Decision: rempart.DecisionKeep}); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("tenant B's admin decides in A's campaign: got %v, want not found", err)
		}
		if _, err := rv.Decide(ctx, adaC, a, cp.ID, "usr_nobody", rempart.ReviewDecision{Decision: rempart.DecisionKeep}); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("an account not in the campaign: got %v, want not found", err)
		}
		if _, err := rv.Decide(ctx, adaC, a, cp.ID, ada.ID, rempart.ReviewDecision{Decision: rempart.DecisionKeep}); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Fatalf("deciding on one's own account: got %v, want forbidden", err)
		}
		// A revoke takes effect at once: carol's session and crm's key stop.
		if _, err := rv.Decide(ctx, adaC, a, cp.ID, carol.ID, rempart.ReviewDecision{Decision: rempart.DecisionRevoke, Note: "Left the team"}); err != nil {
			t.Fatal(err)
		}
		if _, err := id.AuthenticateSession(ctx, rempart.Caller{}, carolToken, rempart.SessionConsole); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("carol's session after a revoke: got %v, want unauthorized", err)
		}
		if _, err := id.Authenticate(ctx, rempart.Caller{}, carolKey.Secret); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("carol's personal API key after a revoke: got %v, want unauthorized", err)
		}
		if keys, err := d.PersonalKeys(ctx, carol.ID, clock.Now()); err != nil || len(keys) != 0 {
			t.Fatalf("carol's personal keys after a revoke: %+v, %v; want none left", keys, err)
		}
		if _, err := rv.Decide(ctx, adaC, a, cp.ID, crm.ID, rempart.ReviewDecision{Decision: rempart.DecisionRevoke}); err != nil {
			t.Fatal(err)
		}
		if _, err := id.Authenticate(ctx, rempart.Caller{}, key.Secret); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("crm's key after a revoke: got %v, want unauthorized", err)
		}
		if _, err := rv.Decide(ctx, adaC, a, cp.ID, carol.ID, rempart.ReviewDecision{Decision: rempart.DecisionKeep}); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("deciding twice: got %v, want conflict", err)
		}
		// A role change decision is a request that someone else approves.
		clock.Advance(time.Second)
		dec, err := rv.Decide(ctx, adaC, a, cp.ID, dave.ID, rempart.ReviewDecision{Decision: rempart.DecisionChangeRole, Role: rempart.RoleReader, Note: "Reads only"})
		if err != nil || dec.Campaign.ClosedAt != nil || dec.Campaign.Decided != 3 || dec.Item.RoleChangeID == "" || dec.Item.NewRole != rempart.RoleReader {
			t.Fatalf("change role: %+v, %v", dec, err)
		}
		if acc, _ := d.ReviewAccount(ctx, a, dave.ID); acc.Principal.Role != rempart.RoleWriter {
			t.Fatalf("a review's change applied before approval: %+v", acc)
		}
		list, _ = rv.RoleChanges(ctx, sys, a)
		if len(list) != 3 || list[0].CampaignID != cp.ID || list[0].PrincipalID != dave.ID || list[0].Status != rempart.RoleChangePending || list[0].Reason != "Reads only" {
			t.Fatalf("the review's role change request: %+v", list)
		}
		dec, err = rv.Decide(ctx, sys, a, cp.ID, ada.ID, rempart.ReviewDecision{Decision: rempart.DecisionKeep})
		if err != nil || dec.Campaign.ClosedAt == nil || dec.Item.DecidedBy != "sa_admin" {
			t.Fatalf("the last decision closes the campaign: %+v, %v", dec, err)
		}
		if det, err = rv.Campaign(ctx, adaC, a, cp.ID); err != nil || det.ClosedAt == nil || det.Decided != 4 {
			t.Fatalf("the closed campaign: %+v, %v", det.Campaign, err)
		}
		if _, err := rv.Decide(ctx, sys, a, cp.ID, ada.ID, rempart.ReviewDecision{Decision: rempart.DecisionKeep}); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("deciding in a closed campaign: got %v, want conflict", err)
		}
		body, ctype, name, err := rv.Export(ctx, adaC, a, cp.ID, reviews.FormatJSON)
		if err != nil || ctype != "application/json" || name != "access-review-"+cp.ID+".json" {
			t.Fatalf("export: %q %q %v", ctype, name, err)
		}
		var ev reviews.Evidence
		if err := json.Unmarshal(body, &ev); err != nil || ev.ClosedAt == nil || len(ev.Items) != 4 || ev.ExportedBy != ada.ID {
			t.Fatalf("evidence: %+v, %v", ev, err)
		}
		for _, it := range ev.Items {
			if it.Decision == "" || it.DecidedBy == "" || it.DecidedAt == nil {
				t.Errorf("undecided item in the evidence: %+v", it)
			}
		}
		csvBody, _, _, err := rv.Export(ctx, adaC, a, cp.ID, reviews.FormatCSV)
		if err != nil || strings.Count(string(csvBody), "\n") != 5 || !strings.Contains(string(csvBody), ",revoke,,Left the team,") {
			t.Fatalf("csv: %s, %v", csvBody, err)
		}
		if cs, err := rv.Campaigns(ctx, bAdmin, b); err != nil || len(cs) != 0 {
			t.Fatalf("tenant B lists campaigns: %+v, %v", cs, err)
		}

		// The quarterly job opens one campaign per scope and quarter.
		n, err := rv.Quarterly(ctx)
		if err != nil || n != 3 {
			t.Fatalf("quarterly: opened %d, %v; want staff, A and B", n, err)
		}
		before, _, err := d.AuditTree(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := rv.Quarterly(ctx); err != nil || n != 0 {
			t.Fatalf("quarterly again: opened %d, %v", n, err)
		}
		if after, _, _ := d.AuditTree(ctx); after != before {
			t.Fatalf("a quarterly run with nothing to open wrote %d audit entries", after-before)
		}
		cs, err := rv.Campaigns(ctx, adaC, a)
		if err != nil || len(cs) != 2 || cs[0].Period == "" || cs[0].ClosedAt != nil || cs[0].CreatedBy != "system:reviews" {
			t.Fatalf("tenant A's campaigns: %+v, %v", cs, err)
		}
		q, err := rv.Campaign(ctx, adaC, a, cs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range q.Items {
			if (it.Name == "carol" || it.Name == "crm") && !strings.Contains(strings.Join(it.Flags, " "), rempart.FlagPendingOffboarding) {
				t.Errorf("%s after its revoke is not pending offboarding: %+v", it.Name, it)
			}
		}

		// Overdue: one reminder a day per campaign, audited.
		if n, err := rv.Remind(ctx); err != nil || n != 0 {
			t.Fatalf("reminders before the due date: %d, %v", n, err)
		}
		clock.Advance(15 * 24 * time.Hour)
		if n, err := rv.Remind(ctx); err != nil || n != 1 {
			t.Fatalf("reminders when overdue: %d, %v", n, err)
		}
		if n, err := rv.Remind(ctx); err != nil || n != 0 {
			t.Fatalf("reminders the same day: %d, %v", n, err)
		}
		clock.Advance(24 * time.Hour)
		if n, err := rv.Remind(ctx); err != nil || n != 1 {
			t.Fatalf("reminders the next day: %d, %v", n, err)
		}
		if q, err = rv.Campaign(ctx, adaC, a, cs[0].ID); err != nil || len(q.Reminders) != 2 {
			t.Fatalf("reminders of the campaign: %v, %v", q.Reminders, err)
		}
		entries, err := d.AuditLog(ctx, audit.Query{Limit: 10000, Action: "review.remind"})
		if err != nil || len(entries) != 2 || entries[0].TenantID != a || entries[0].PrincipalID != "system:reviews" {
			t.Fatalf("audited reminders: %+v, %v", entries, err)
		}
	})
}
