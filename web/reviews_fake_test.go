package web_test

import (
	"context"
	"sync"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/reviews"
)

// fakeReviews holds one campaign and one role change request of tenant
// ten_acme, with the same authorisation shape as reviews.Service: the staff
// scope is the system administrators', a tenant's is its own admins' and the
// system administrators'; another tenant's is not found.
type fakeReviews struct {
	mu        sync.Mutex
	campaign  rempart.CampaignDetail
	changes   []rempart.RoleChange
	decisions []rempart.ReviewDecision
	requests  []rempart.RoleChangeCreate
}

func newFakeReviews() *fakeReviews {
	last := epoch.Add(-24 * 3600e9)
	return &fakeReviews{
		campaign: rempart.CampaignDetail{
			Campaign: rempart.Campaign{ID: "arc_q1", TenantID: "ten_acme", Name: "Quarterly access review 2026-Q1", Period: "2026-Q1", CreatedBy: "system:reviews",
				CreatedAt: epoch, DueAt: epoch.Add(14 * 24 * 3600e9), Accounts: 2, Reminders: []string{"2026-03-16"}},
			Items: []rempart.ReviewItem{
				{PrincipalID: "usr_tad", Kind: rempart.ReviewUser, Name: "Tom Tenant", Email: "tom@example.com", Role: rempart.RoleAdmin, Status: rempart.UserActive,
					Grants: []string{}, CreatedAt: epoch, LastLoginAt: &last, MFA: rempart.MFANone, Flags: []string{rempart.FlagNoMFA, rempart.FlagPrivileged}},
				{PrincipalID: "sa_crm", Kind: rempart.ReviewServiceAccount, Name: "crm <script>", Role: rempart.RoleWriter, Status: rempart.UserActive,
					Grants: []string{}, CreatedAt: epoch, MFA: rempart.MFANotApplicable, Flags: []string{}},
			}},
		changes: []rempart.RoleChange{{ID: "rch_1", TenantID: "ten_acme", PrincipalID: "usr_bob", SubjectName: "Bob", FromRole: rempart.RoleAdmin, ToRole: rempart.RoleReader,
			Reason: "Moved to support", RequestedBy: "usr_tad", RequestedAt: epoch, Status: rempart.RoleChangePending}},
	}
}

func (f *fakeReviews) check(c rempart.Caller, tenant string) error {
	switch {
	case c.Principal.Role == rempart.RoleSystemAdmin:
		return nil
	case tenant == "" || c.Principal.TenantID != tenant:
		return rempart.Errorf(rempart.ENOTFOUND, "Not found.")
	case c.Principal.Role != rempart.RoleAdmin:
		return rempart.Errorf(rempart.EFORBIDDEN, "Your role does not allow this.")
	}
	return nil
}

func (f *fakeReviews) Accounts(ctx context.Context, c rempart.Caller, tenant string) ([]reviews.Account, error) {
	if err := f.check(c, tenant); err != nil {
		return nil, err
	}
	return []reviews.Account{{Principal: rempart.Principal{ID: "usr_bob", Name: "Bob", TenantID: tenant, Role: rempart.RoleAdmin}, Kind: rempart.ReviewUser,
		Email: "bob@example.com", Status: rempart.UserActive, CreatedAt: epoch}}, nil
}

func (f *fakeReviews) RoleChanges(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.RoleChange, error) {
	if err := f.check(c, tenant); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if tenant != "ten_acme" {
		return []rempart.RoleChange{}, nil
	}
	return append([]rempart.RoleChange{}, f.changes...), nil
}

func (f *fakeReviews) RequestRoleChange(ctx context.Context, c rempart.Caller, tenant string, in rempart.RoleChangeCreate) (rempart.RoleChange, error) {
	if err := f.check(c, tenant); err != nil {
		return rempart.RoleChange{}, err
	}
	if in.Reason == "" {
		return rempart.RoleChange{}, rempart.Errorf(rempart.EINVALID, "reason must be 1 to 500 characters on one line.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, in)
	return rempart.RoleChange{ID: "rch_2"}, nil
}

func (f *fakeReviews) ApproveRoleChange(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.RoleChange, error) {
	if err := f.check(c, tenant); err != nil {
		return rempart.RoleChange{}, err
	}
	if c.Principal.ID == "usr_tad" {
		return rempart.RoleChange{}, rempart.Errorf(rempart.EFORBIDDEN, "Another person must decide on a request you made.")
	}
	return rempart.RoleChange{ID: id, Status: rempart.RoleChangeApproved}, nil
}

func (f *fakeReviews) RejectRoleChange(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.RoleChange, error) {
	if err := f.check(c, tenant); err != nil {
		return rempart.RoleChange{}, err
	}
	return rempart.RoleChange{ID: id, Status: rempart.RoleChangeRejected}, nil
}

func (f *fakeReviews) Campaigns(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Campaign, error) {
	if err := f.check(c, tenant); err != nil {
		return nil, err
	}
	if tenant != "ten_acme" {
		return []rempart.Campaign{}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return []rempart.Campaign{f.campaign.Campaign}, nil
}

func (f *fakeReviews) CreateCampaign(ctx context.Context, c rempart.Caller, tenant string, in rempart.CampaignCreate) (rempart.Campaign, error) {
	if err := f.check(c, tenant); err != nil {
		return rempart.Campaign{}, err
	}
	if in.DueInDays > 90 {
		return rempart.Campaign{}, rempart.Errorf(rempart.EINVALID, "due_in_days must be between 1 and 90.")
	}
	return rempart.Campaign{ID: "arc_new"}, nil
}

func (f *fakeReviews) Campaign(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.CampaignDetail, error) {
	if err := f.check(c, tenant); err != nil {
		return rempart.CampaignDetail{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if tenant != f.campaign.TenantID || id != f.campaign.ID {
		return rempart.CampaignDetail{}, rempart.Errorf(rempart.ENOTFOUND, "No access review campaign with this ID.")
	}
	cp := f.campaign
	cp.Items = append([]rempart.ReviewItem{}, cp.Items...)
	return cp, nil
}

func (f *fakeReviews) Decide(ctx context.Context, c rempart.Caller, tenant, campaignID, principalID string, in rempart.ReviewDecision) (rempart.ReviewDecided, error) {
	cp, err := f.Campaign(ctx, c, tenant, campaignID)
	if err != nil {
		return rempart.ReviewDecided{}, err
	}
	if principalID == c.Principal.ID {
		return rempart.ReviewDecided{}, rempart.Errorf(rempart.EFORBIDDEN, "Another reviewer must decide on your own account.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decisions = append(f.decisions, in)
	return rempart.ReviewDecided{Campaign: cp.Campaign}, nil
}

func (f *fakeReviews) Export(ctx context.Context, c rempart.Caller, tenant, id, format string) ([]byte, string, string, error) {
	if _, err := f.Campaign(ctx, c, tenant, id); err != nil {
		return nil, "", "", err
	}
	return []byte("campaign_id\narc_q1\n"), "text/csv; charset=utf-8", "access-review-arc_q1.csv", nil
}
