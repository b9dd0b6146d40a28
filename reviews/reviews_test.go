package reviews

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var t0 = time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)

func tp(t time.Time) *time.Time { return &t }

// evidence is a closed campaign whose items hold what a spreadsheet would
// run: formulas in a name, an email, a note.
func evidence() Evidence {
	closed := t0.Add(72 * time.Hour)
	return Evidence{CampaignDetail: rempart.CampaignDetail{
		Campaign: rempart.Campaign{ID: "arc_1", TenantID: "ten_a", Name: "Quarterly access review 2026-Q4", Period: "2026-Q4", CreatedBy: "system:reviews",
			CreatedAt: t0, DueAt: t0.Add(14 * 24 * time.Hour), ClosedAt: &closed, Accounts: 3, Decided: 3, Reminders: []string{}},
		Items: []rempart.ReviewItem{
			{PrincipalID: "usr_ada", Kind: rempart.ReviewUser, Name: "Ada", Email: "ada@a.example", Role: rempart.RoleAdmin, Status: rempart.UserActive,
				Grants: []string{}, CreatedAt: t0.Add(-400 * 24 * time.Hour), LastLoginAt: tp(t0.Add(-24 * time.Hour)), MFA: rempart.MFANone,
				Flags: []string{rempart.FlagNoMFA, rempart.FlagPrivileged}, Decision: rempart.DecisionKeep, DecidedBy: "usr_bob", DecidedAt: tp(t0.Add(time.Hour))},
			{PrincipalID: "usr_eve", Kind: rempart.ReviewUser, Name: "=HYPERLINK(\"http://evil.example\",\"x\")", Email: "@eve@a.example", Role: rempart.RoleWriter,
				Status: rempart.UserActive, Grants: []string{}, CreatedAt: t0.Add(-200 * 24 * time.Hour), MFA: rempart.MFANone,
				Flags: []string{rempart.FlagDormant, rempart.FlagNoMFA}, Decision: rempart.DecisionRevoke, Note: "-2+3 left in June", DecidedBy: "usr_ada", DecidedAt: tp(t0.Add(2 * time.Hour))},
			{PrincipalID: "sa_crm", Kind: rempart.ReviewServiceAccount, Name: "crm", Role: rempart.RoleWriter, Status: rempart.UserActive, Grants: []string{},
				CreatedAt: t0.Add(-30 * 24 * time.Hour), MFA: rempart.MFANotApplicable, Flags: []string{}, Decision: rempart.DecisionChangeRole,
				NewRole: rempart.RoleReader, Note: "+reads only", DecidedBy: "usr_ada", DecidedAt: tp(closed), RoleChangeID: "rch_1"},
		}},
		ExportedBy: "usr_ada", ExportedAt: closed.Add(time.Hour)}
}

// TestExportGolden pins the evidence formats (IAM-9); regenerate after a
// deliberate change with: go test ./reviews -run TestExportGolden -update
func TestExportGolden(t *testing.T) {
	for _, format := range []string{FormatCSV, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			got, _, err := Encode(evidence(), format)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "evidence."+format)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestCSVInjection: no cell of the CSV export starts with a character that
// makes a spreadsheet evaluate it.
func TestCSVInjection(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx", "ok": "ok", "": "", "a=b": "a=b"} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
	body, _, err := Encode(evidence(), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		for _, cell := range strings.Split(line, ",") {
			cell = strings.TrimPrefix(cell, `"`)
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("a cell starts with %q: %s", cell[0], line)
			}
		}
	}
}

type enrolled map[string]bool

func (e enrolled) MFAEnrolled(_ context.Context, id string) (bool, error) { return e[id], nil }

type grants map[string][]string

func (g grants) ActiveGrants(_ context.Context, id string, _ time.Time) ([]string, error) {
	return g[id], nil
}

// TestItemFlags: the snapshot's flags with the defaults (90 days dormant)
// and with the MFA and grants providers plugged in.
func TestItemFlags(t *testing.T) {
	s := New(nil, nil, Config{MFA: enrolled{"usr_mfa": true}, Grants: grants{"usr_mfa": {"tenant ten_a records:read until 2026-10-02"}}})
	now := t0
	user := func(id, role, status string, created time.Duration, last *time.Duration) Account {
		a := Account{Principal: rempart.Principal{ID: id, Name: id, Role: role}, Kind: rempart.ReviewUser, Status: status, CreatedAt: now.Add(-created)}
		if last != nil {
			a.LastLoginAt = tp(now.Add(-*last))
		}
		return a
	}
	day := 24 * time.Hour
	d89, d91 := 89*day, 91*day
	cases := []struct {
		a     Account
		mfa   string
		flags string
	}{
		{user("usr_new", rempart.RoleWriter, rempart.UserActive, d89, nil), rempart.MFANone, "no_mfa"},
		{user("usr_never", rempart.RoleWriter, rempart.UserActive, d91, nil), rempart.MFANone, "dormant no_mfa"},
		{user("usr_recent", rempart.RoleWriter, rempart.UserActive, 400*day, &d89), rempart.MFANone, "no_mfa"},
		{user("usr_stale", rempart.RoleWriter, rempart.UserActive, 400*day, &d91), rempart.MFANone, "dormant no_mfa"},
		{user("usr_mfa", rempart.RoleAdmin, rempart.UserActive, day, &day), rempart.MFAEnrolled, "privileged"},
		{user("usr_staff", rempart.RoleSystemAdmin, rempart.UserSuspended, day, &day), rempart.MFANone, "no_mfa privileged pending_offboarding"},
		{Account{Principal: rempart.Principal{ID: "sa_1", Role: rempart.RoleReader}, Kind: rempart.ReviewServiceAccount, Status: ServiceAccountNoKeys, CreatedAt: now.Add(-400 * day)},
			rempart.MFANotApplicable, "pending_offboarding"},
		{Account{Principal: rempart.Principal{ID: "sa_2", Role: rempart.RoleAdmin}, Kind: rempart.ReviewServiceAccount, Status: rempart.UserActive, CreatedAt: now.Add(-400 * day)},
			rempart.MFANotApplicable, "privileged"},
	}
	for _, c := range cases {
		it, err := s.item(context.Background(), c.a, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(it.Flags, " "); got != c.flags || it.MFA != c.mfa {
			t.Errorf("%s: got %s [%s], want %s [%s]", c.a.Principal.ID, it.MFA, got, c.mfa, c.flags)
		}
	}
	it, _ := s.item(context.Background(), cases[4].a, now)
	if len(it.Grants) != 1 {
		t.Errorf("grants of the provider not in the snapshot: %+v", it.Grants)
	}
}

func TestQuarter(t *testing.T) {
	for in, want := range map[string]string{"2026-01-01T00:00:00Z": "2026-Q1", "2026-03-31T23:59:59Z": "2026-Q1", "2026-04-01T00:00:00Z": "2026-Q2", "2026-12-31T12:00:00Z": "2026-Q4"} {
		tm, _ := time.Parse(time.RFC3339, in)
		if got := quarter(tm); got != want {
			t.Errorf("quarter(%s) = %s, want %s", in, got, want)
		}
	}
}

// noGrantsAsked fails any question about a principal's grants.
type noGrantsAsked struct{}

func (noGrantsAsked) ActiveGrants(_ context.Context, id string, _ time.Time) ([]string, error) {
	return nil, errors.New("grants of " + id + " asked")
}

// TestItemTenantAccountHoldsNoGrants: grants are the staff's (IAM-7), so a
// tenant's account is snapshotted without asking for them, while a staff
// account still is.
func TestItemTenantAccountHoldsNoGrants(t *testing.T) {
	s := New(nil, nil, Config{MFA: enrolled{}, Grants: noGrantsAsked{}})
	tenantUser := Account{Principal: rempart.Principal{ID: "usr_t", TenantID: "ten_a", Role: rempart.RoleWriter}, Kind: rempart.ReviewUser, Status: rempart.UserActive, CreatedAt: t0}
	it, err := s.item(context.Background(), tenantUser, t0)
	if err != nil {
		t.Fatal(err)
	}
	if it.Grants == nil || len(it.Grants) != 0 {
		t.Errorf("tenant account's grants: %#v, want an empty list", it.Grants)
	}
	staff := Account{Principal: rempart.Principal{ID: "usr_s", Role: rempart.RoleEngineer}, Kind: rempart.ReviewUser, Status: rempart.UserActive, CreatedAt: t0}
	if _, err := s.item(context.Background(), staff, t0); err == nil {
		t.Error("a staff account's grants were not asked for")
	}
}
