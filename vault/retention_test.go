package vault_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

const day = 24 * time.Hour

// eachDialect runs fn over SQLite and PostgreSQL, with a local object store.
func eachDialect(t *testing.T, fn func(t *testing.T, e *attEnv)) {
	t.Helper()
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { fn(t, newAttEnv(t, dialect, "local", vault.AttachmentLimits{})) })
	}
}

func rule(restorable, maxAge int) func(*rempart.RetentionRuleSet) error {
	return vault.RuleBody(rempart.RetentionRuleSet{RestorableDays: restorable, MaxAgeDays: maxAge})
}

// setRule sets a collection's rule ("" : the tenant's default).
func (e *attEnv) setRule(c rempart.Caller, tenant, collection string, restorable, maxAge int) {
	e.t.Helper()
	var err error
	if collection == "" {
		_, err = e.v.SetRetentionDefault(ctx, c, tenant, rule(restorable, maxAge))
	} else {
		_, err = e.v.SetRetentionRule(ctx, c, tenant, collection, rule(restorable, maxAge))
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// create makes a record in a collection and returns its ID.
func (e *attEnv) create(c rempart.Caller, tenant, collection string) string {
	e.t.Helper()
	rec, _, err := e.v.CreateRecord(ctx, c, tenant, collection, []byte(`{"n":1}`), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return rec.ID
}

func (e *attEnv) del(c rempart.Caller, tenant, collection, id string) {
	e.t.Helper()
	if err := e.v.DeleteRecord(ctx, c, tenant, collection, id, 0); err != nil {
		e.t.Fatal(err)
	}
}

// state says whether a record is live, deleted (restorable or awaiting the
// purge) or gone.
func (e *attEnv) state(c rempart.Caller, tenant, collection, id string) string {
	e.t.Helper()
	if _, err := e.v.GetRecord(ctx, c, tenant, collection, id); err == nil {
		return "live"
	} else if rempart.ErrorCode(err) != rempart.ENOTFOUND {
		e.t.Fatal(err)
	}
	page, err := e.v.ListRecords(ctx, c, tenant, collection, vault.ListOptions{Deleted: true, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range page.Records {
		if r.ID == id {
			return "deleted"
		}
	}
	return "gone"
}

// expectStates checks each record's state, named by label in failures.
func (e *attEnv) expectStates(when string, states map[string]string, recs map[string]recRef) {
	e.t.Helper()
	for label, st := range states {
		r := recs[label]
		if got := e.state(r.c, r.tenant, r.collection, r.id); got != st {
			e.t.Errorf("%s: record %s: got %s, want %s", when, label, got, st)
		}
	}
}

type recRef struct {
	c                      rempart.Caller
	tenant, collection, id string
}

func (e *attEnv) purge(batch int) int {
	e.t.Helper()
	n, err := e.v.Purge(ctx, batch)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestRetentionRulesGovernPurge deletes records of two tenants in collections
// with a 7-day rule, a 1-year rule and none: each is purged when its own
// rule says, with its attachments, and no sooner; the other tenant follows
// the deployment's retention (1 hour here) (GOV-5, BCK-3).
func TestRetentionRulesGovernPurge(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleAdmin)
		b, cb := e.tenant("B", rempart.RoleAdmin)
		e.setRule(ca, a, "calls", 7, 0)
		e.setRule(ca, a, "contracts", 365, 0)
		recs := map[string]recRef{
			"A/calls":     {ca, a, "calls", e.create(ca, a, "calls")},
			"A/contracts": {ca, a, "contracts", e.create(ca, a, "contracts")},
			"A/notes":     {ca, a, "notes", e.create(ca, a, "notes")},
			"B/calls":     {cb, b, "calls", e.create(cb, b, "calls")},
			"B/contracts": {cb, b, "contracts", e.create(cb, b, "contracts")},
		}
		attA := e.upload(ca, a, recs["A/calls"].id, content(100, 1))
		e.upload(cb, b, recs["B/calls"].id, content(100, 2))
		for _, r := range recs {
			e.del(r.c, r.tenant, r.collection, r.id)
		}

		e.clock.Advance(2 * time.Hour)
		if n := e.purge(100); n != 4 {
			t.Fatalf("purge after the deployment's retention: got %d removed, want 4 (3 records, 1 attachment)", n)
		}
		e.expectStates("after 2 hours", map[string]string{"A/calls": "deleted", "A/contracts": "deleted", "A/notes": "gone", "B/calls": "gone", "B/contracts": "gone"}, recs)
		if ks := e.keys(b); len(ks) != 0 {
			t.Errorf("B's objects after its purge: %v", ks)
		}
		if ks := e.keys(a); len(ks) != 1 || ks[0] != key(a, attA.ID) {
			t.Errorf("A's objects inside its 7-day rule: got %v, want its attachment", ks)
		}

		e.clock.Advance(7*day - 2*time.Hour - time.Minute)
		if n := e.purge(100); n != 0 {
			t.Fatalf("purge a minute before 7 days: got %d removed, want 0", n)
		}
		e.clock.Advance(2 * time.Minute)
		if n := e.purge(100); n != 2 {
			t.Fatalf("purge after 7 days: got %d removed, want 2 (the record and its attachment)", n)
		}
		e.expectStates("after 7 days", map[string]string{"A/calls": "gone", "A/contracts": "deleted"}, recs)
		if ks := e.keys(a); len(ks) != 0 {
			t.Errorf("A's objects after the 7-day purge: %v", ks)
		}

		e.clock.Advance(357 * day)
		if n := e.purge(100); n != 0 {
			t.Fatalf("purge before a year: got %d removed, want 0", n)
		}
		e.expectStates("after 364 days", map[string]string{"A/contracts": "deleted"}, recs)
		e.clock.Advance(day)
		if n := e.purge(100); n != 1 {
			t.Fatalf("purge after a year: got %d removed, want 1", n)
		}
		e.expectStates("after 365 days", map[string]string{"A/contracts": "gone"}, recs)

		// Each purge is in its tenant's trail, with the rule that applied.
		reasons := map[string]string{}
		for _, en := range e.audited("record.purge") {
			if en.Outcome != rempart.OutcomeSuccess || en.PrincipalID != "system:purge" {
				t.Errorf("purge entry: got %+v", en)
			}
			reasons[en.Resource] = en.Reason
		}
		for label, reason := range map[string]string{"A/calls": "retention rule: 7 days", "A/contracts": "retention rule: 365 days", "A/notes": "retention 1h0m0s", "B/calls": "retention 1h0m0s"} {
			r := recs[label]
			if got := reasons["tenants/"+r.tenant+"/collections/"+r.collection+"/records/"+r.id]; got != reason {
				t.Errorf("purge of %s: got reason %q, want %q", label, got, reason)
			}
		}
		var attReason string
		for _, en := range e.audited("attachment.purge") {
			if en.TenantID == a {
				attReason = en.Reason
			}
		}
		if attReason != "retention rule: 7 days, record deleted" {
			t.Errorf("purge of A's attachment: got reason %q", attReason)
		}
	})
}

// TestRetentionDefaultRule gives a tenant a default of 30 days and one
// collection a rule of 7: the collections without a rule follow the default;
// once the default is removed, the deployment's retention applies again, to
// the records already deleted too.
func TestRetentionDefaultRule(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleAdmin)
		e.setRule(ca, a, "", 30, 0)
		e.setRule(ca, a, "calls", 7, 0)
		recs := map[string]recRef{
			"calls": {ca, a, "calls", e.create(ca, a, "calls")},
			"notes": {ca, a, "notes", e.create(ca, a, "notes")},
			"docs":  {ca, a, "docs", e.create(ca, a, "docs")},
		}
		for _, r := range recs {
			e.del(r.c, r.tenant, r.collection, r.id)
		}
		e.clock.Advance(8 * day)
		if n := e.purge(100); n != 1 {
			t.Fatalf("purge after 8 days: got %d removed, want 1", n)
		}
		e.expectStates("after 8 days", map[string]string{"calls": "gone", "notes": "deleted", "docs": "deleted"}, recs)

		got, err := e.v.Retention(ctx, ca, a)
		if err != nil || got.DefaultSource != "tenant" || got.Default.RestorableDays != 30 || got.Default.Collection != "" ||
			len(got.Rules) != 1 || got.Rules[0].Collection != "calls" || got.Rules[0].RestorableDays != 7 || got.Rules[0].UpdatedAt == nil {
			t.Fatalf("rules: got %+v, %v", got, err)
		}
		if err := e.v.DeleteRetentionDefault(ctx, ca, a); err != nil {
			t.Fatal(err)
		}
		if n := e.purge(100); n != 2 {
			t.Fatalf("purge once the default is removed: got %d removed, want 2", n)
		}
		e.expectStates("without the default", map[string]string{"notes": "gone", "docs": "gone"}, recs)
		got, err = e.v.Retention(ctx, ca, a)
		if err != nil || got.DefaultSource != "deployment" || got.Default.RestorableDays != 1 || got.Default.UpdatedAt != nil {
			t.Fatalf("rules without a default: got %+v, %v", got, err)
		}
	})
}

// TestRetentionRuleChangeAppliesToDeleted changes rules after records were
// deleted: a shorter rule purges them sooner, a longer one keeps them
// restorable longer.
func TestRetentionRuleChangeAppliesToDeleted(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleAdmin)
		e.setRule(ca, a, "shorter", 365, 0)
		e.setRule(ca, a, "longer", 7, 0)
		recs := map[string]recRef{
			"shorter": {ca, a, "shorter", e.create(ca, a, "shorter")},
			"longer":  {ca, a, "longer", e.create(ca, a, "longer")},
		}
		att := e.upload(ca, a, e.create(ca, a, "calls"), content(10, 1)) // in a third collection: untouched
		for _, r := range recs {
			e.del(r.c, r.tenant, r.collection, r.id)
		}
		e.clock.Advance(day)
		e.setRule(ca, a, "shorter", 7, 0)
		e.setRule(ca, a, "longer", 30, 0)
		e.clock.Advance(7 * day)
		if n := e.purge(100); n != 1 {
			t.Fatalf("purge after 8 days: got %d removed, want 1", n)
		}
		e.expectStates("after 8 days", map[string]string{"shorter": "gone", "longer": "deleted"}, recs)
		r := recs["longer"]
		if _, err := e.v.RestoreRecord(ctx, ca, a, r.collection, r.id); err != nil {
			t.Fatalf("restore under the longer rule: %v", err)
		}
		if _, _, err := e.read(ca, a, att.RecordID, att.ID, vault.ReadOptions{}); err != nil {
			t.Fatalf("attachment of another collection: %v", err)
		}
	})
}

// TestRestoreWithinRetentionWindow restores a record and an attachment inside
// their collection's 7-day rule, and is refused once it is over, before the
// purge job has run; the deployment's retention bounds the others.
func TestRestoreWithinRetentionWindow(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleAdmin)
		e.setRule(ca, a, "calls", 7, 0)
		rec := e.record(ca, a) // in calls
		holder := e.record(ca, a)
		att := e.upload(ca, a, holder, content(10, 1))
		notes := e.create(ca, a, "notes")
		e.del(ca, a, "calls", rec)
		if err := e.v.DeleteAttachment(ctx, ca, a, "calls", holder, att.ID); err != nil {
			t.Fatal(err)
		}
		e.del(ca, a, "notes", notes)

		e.clock.Advance(2 * time.Hour)
		if _, err := e.v.RestoreRecord(ctx, ca, a, "notes", notes); rempart.ErrorCode(err) != rempart.ENOTFOUND || !strings.Contains(rempart.ErrorMessage(err), "1h0m0s") {
			t.Fatalf("restore after the deployment's retention: got %v, want not_found naming it", err)
		}
		if n := e.purge(100); n != 1 {
			t.Fatalf("purge after 2 hours: got %d removed, want 1 (the note)", n)
		}
		e.clock.Advance(6*day - 2*time.Hour)
		if _, err := e.v.RestoreRecord(ctx, ca, a, "calls", rec); err != nil {
			t.Fatalf("restore after 6 days: %v", err)
		}
		if _, err := e.v.RestoreAttachment(ctx, ca, a, "calls", holder, att.ID); err != nil {
			t.Fatalf("restore of the attachment after 6 days: %v", err)
		}

		e.del(ca, a, "calls", rec)
		if err := e.v.DeleteAttachment(ctx, ca, a, "calls", holder, att.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(7 * day)
		if _, err := e.v.RestoreRecord(ctx, ca, a, "calls", rec); rempart.ErrorCode(err) != rempart.ENOTFOUND || !strings.Contains(rempart.ErrorMessage(err), "7 days") {
			t.Fatalf("restore after 7 days: got %v, want not_found naming the rule", err)
		}
		if _, err := e.v.RestoreAttachment(ctx, ca, a, "calls", holder, att.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("restore of the attachment after 7 days: got %v, want not_found", err)
		}
		if got := e.state(ca, a, "calls", rec); got != "deleted" {
			t.Fatalf("before the purge: got %s, want deleted (awaiting the purge)", got)
		}
		if n := e.purge(100); n != 2 {
			t.Fatalf("purge: got %d removed, want 2 (the record, the attachment)", n)
		}
		restores := outcomes(e.audited("record.restore"))
		if restores[rempart.OutcomeSuccess] != 1 || restores[rempart.OutcomeFailure] != 2 {
			t.Errorf("record.restore outcomes: got %v, want 1 success and 2 failures", restores)
		}
	})
}

// TestMaxAgeExpiry gives a collection a maximum age of 30 days and the
// tenant a default of 60: the purge job deletes the live records older than
// that, as the system and audited; a collection with its own rule without a
// maximum age, another tenant and younger records are untouched; the expired
// records are restorable for their window, then purged.
func TestMaxAgeExpiry(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *attEnv) {
		a, ca := e.tenant("A", rempart.RoleAdmin)
		b, cb := e.tenant("B", rempart.RoleAdmin)
		e.setRule(ca, a, "calls", 7, 30)
		e.setRule(ca, a, "", 10, 60)
		e.setRule(ca, a, "keep", 7, 0)
		recs := map[string]recRef{
			"calls":   {ca, a, "calls", e.create(ca, a, "calls")},
			"notes":   {ca, a, "notes", e.create(ca, a, "notes")},
			"keep":    {ca, a, "keep", e.create(ca, a, "keep")},
			"B/calls": {cb, b, "calls", e.create(cb, b, "calls")},
		}
		e.clock.Advance(20 * day)
		recs["young"] = recRef{ca, a, "calls", e.create(ca, a, "calls")}
		e.clock.Advance(10 * day)
		if _, err := e.v.PatchRecord(ctx, ca, a, "notes", recs["notes"].id, []byte(`{"n":2}`), 0); err != nil {
			t.Fatal(err) // updated at 30 days: its age starts again
		}
		e.clock.Advance(day + time.Minute)
		if n := e.purge(100); n != 0 {
			t.Fatalf("purge at 31 days: got %d removed, want 0 (expiry deletes, the purge comes later)", n)
		}
		e.expectStates("at 31 days", map[string]string{"calls": "deleted", "young": "live", "notes": "live", "keep": "live", "B/calls": "live"}, recs)
		es := e.audited("record.expire")
		r := recs["calls"]
		if len(es) != 1 || es[0].TenantID != a || es[0].PrincipalID != "system:retention" || es[0].Outcome != rempart.OutcomeSuccess ||
			es[0].Resource != "tenants/"+a+"/collections/calls/records/"+r.id || !strings.Contains(es[0].Reason, "30 days") {
			t.Fatalf("expiry entries: got %+v", es)
		}

		e.clock.Advance(60 * day) // day 91
		if n := e.purge(100); n != 1 {
			t.Fatalf("purge at 91 days: got %d removed, want 1 (the first expired record)", n)
		}
		e.expectStates("at 91 days", map[string]string{"calls": "gone", "young": "deleted", "notes": "deleted", "keep": "live", "B/calls": "live"}, recs)
		// An expired record is restorable for its window like any deleted
		// one: notes, under the default, for 10 days.
		if _, err := e.v.RestoreRecord(ctx, ca, a, "notes", recs["notes"].id); err != nil {
			t.Fatalf("restore of an expired record: %v", err)
		}
		if o := outcomes(e.audited("record.expire")); o[rempart.OutcomeSuccess] != 3 || len(o) != 1 {
			t.Errorf("expiry outcomes: got %v, want 3 successes", o)
		}
	})
}

// TestExpiryIsBatched expires at most the batch size per run.
func TestExpiryIsBatched(t *testing.T) {
	e := newAttEnv(t, "sqlite", "local", vault.AttachmentLimits{})
	a, ca := e.tenant("A", rempart.RoleAdmin)
	e.setRule(ca, a, "calls", 7, 1)
	for range 5 {
		e.create(ca, a, "calls")
	}
	e.clock.Advance(2 * day)
	for i, want := range []int{2, 4, 5, 5} {
		e.purge(2)
		if got := len(e.audited("record.expire")); got != want {
			t.Fatalf("after run %d: got %d expired, want %d", i+1, got, want)
		}
	}
}

// TestRetentionRulesRefused checks who may read and change rules, the bounds
// of their values, and that every change, read and refusal is audited
// (AUD-1).
func TestRetentionRulesRefused(t *testing.T) {
	e := newAttEnv(t, "sqlite", "local", vault.AttachmentLimits{})
	a, admin := e.tenant("A", rempart.RoleAdmin)
	writer := rempart.Caller{Principal: rempart.Principal{ID: "sa_w", TenantID: a, Role: rempart.RoleWriter}, CredentialID: "key_w"}
	_, other := e.tenant("B", rempart.RoleAdmin)
	for _, c := range []struct {
		name string
		c    rempart.Caller
		code string
	}{
		{"writer", writer, rempart.EFORBIDDEN},
		{"admin of another tenant", other, rempart.ENOTFOUND},
		{"anonymous", rempart.Caller{}, rempart.EUNAUTHORIZED},
	} {
		if _, err := e.v.Retention(ctx, c.c, a); rempart.ErrorCode(err) != c.code {
			t.Errorf("%s reads: got %v, want %s", c.name, err, c.code)
		}
		if _, err := e.v.SetRetentionRule(ctx, c.c, a, "calls", rule(7, 0)); rempart.ErrorCode(err) != c.code {
			t.Errorf("%s sets: got %v, want %s", c.name, err, c.code)
		}
		if err := e.v.DeleteRetentionDefault(ctx, c.c, a); rempart.ErrorCode(err) != c.code {
			t.Errorf("%s deletes: got %v, want %s", c.name, err, c.code)
		}
	}
	if o := outcomes(e.audited("retention.set")); o[rempart.OutcomeDenied] != 3 {
		t.Errorf("refused changes: got %v, want 3 denials", o)
	}
	if _, err := e.v.Retention(ctx, e.system, a); err != nil {
		t.Errorf("system admin reads: %v", err)
	}

	bad := []struct {
		name       string
		collection string
		read       func(*rempart.RetentionRuleSet) error
		field      string
	}{
		{"no restorable_days", "calls", rule(0, 0), "restorable_days"},
		{"too long", "calls", rule(3651, 0), "restorable_days"},
		{"negative max age", "calls", rule(7, -1), "max_age_days"},
		{"max age too long", "calls", rule(7, 3651), "max_age_days"},
		{"bad collection", "Calls!", rule(7, 0), "Collection names"},
		{"malformed body", "calls", func(*rempart.RetentionRuleSet) error {
			return rempart.Errorf(rempart.EINVALID, "The body is not valid JSON.")
		}, "not valid JSON"},
	}
	for _, c := range bad {
		_, err := e.v.SetRetentionRule(ctx, admin, a, c.collection, c.read)
		if rempart.ErrorCode(err) != rempart.EINVALID || !strings.Contains(rempart.ErrorMessage(err), c.field) {
			t.Errorf("%s: got %v, want invalid naming %s", c.name, err, c.field)
		}
	}
	if o := outcomes(e.audited("retention.set")); o[rempart.OutcomeFailure] != len(bad) {
		t.Errorf("refused values: got %v, want %d failures", o, len(bad))
	}
	if _, err := e.v.SetRetentionRule(ctx, admin, a, "calls", func(*rempart.RetentionRuleSet) error { return errors.New("read failed") }); err == nil {
		t.Error("a body that cannot be read: no error")
	}
	if got, err := e.v.SetRetentionRule(ctx, admin, a, "calls", rule(3650, 1)); err != nil || got.RestorableDays != 3650 || got.MaxAgeDays != 1 {
		t.Errorf("the bounds themselves: got %+v, %v", got, err)
	}
	if err := e.v.DeleteRetentionRule(ctx, admin, a, "notes"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
		t.Errorf("delete a rule that does not exist: got %v, want not_found", err)
	}
	if err := e.v.DeleteRetentionRule(ctx, admin, a, "calls"); err != nil {
		t.Error(err)
	}
	es := e.audited("retention.set")
	last := es[len(es)-1]
	if last.Outcome != rempart.OutcomeSuccess || last.TenantID != a || last.PrincipalID != admin.Principal.ID || last.CredentialID != "key_test" ||
		last.Resource != "tenants/"+a+"/retention/calls" || last.Reason != "restorable 3650 days, max age 1 day" {
		t.Errorf("rule change entry: got %+v", last)
	}
	if o := outcomes(e.audited("retention.delete")); o[rempart.OutcomeSuccess] != 1 || o[rempart.OutcomeFailure] != 1 || o[rempart.OutcomeDenied] != 3 {
		t.Errorf("retention.delete outcomes: got %v", o)
	}
	if o := outcomes(e.audited("retention.read")); o[rempart.OutcomeSuccess] != 1 || o[rempart.OutcomeDenied] != 3 {
		t.Errorf("retention.read outcomes: got %v", o)
	}
}

// TestRetentionBoundsAreTheOperators checks that the operator's floor and
// ceiling bound the rules and are shown to tenants.
func TestRetentionBoundsAreTheOperators(t *testing.T) {
	e := newEnv(t)
	root, err := keys.CreateLocalFile(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	e.v = vault.New(e.db, keys.NewKeyring(root, 100), e.clock, vault.Config{Retention: 30 * day, RetentionMin: 7 * day, RetentionMax: 365 * day})
	a, admin := e.tenant("A", rempart.RoleAdmin)
	for _, days := range []int{6, 366} {
		if _, err := e.v.SetRetentionRule(ctx, admin, a, "calls", rule(days, 0)); rempart.ErrorCode(err) != rempart.EINVALID || !strings.Contains(rempart.ErrorMessage(err), "between 7 and 365") {
			t.Errorf("%d days: got %v, want invalid naming the bounds", days, err)
		}
	}
	got, err := e.v.Retention(ctx, admin, a)
	if err != nil || got.MinDays != 7 || got.MaxDays != 365 || got.Default.RestorableDays != 30 || got.DefaultSource != "deployment" || len(got.Rules) != 0 {
		t.Fatalf("rules: got %+v, %v", got, err)
	}
}
