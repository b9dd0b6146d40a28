package reviews

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart"
)

// Access review campaigns (IAM-9). A campaign snapshots every account of its
// scope when it opens; reviewers decide on each; it closes when every item is
// decided, and a closed campaign is exported as evidence (export.go).

// CreateCampaign opens a campaign on demand.
func (s *Service) CreateCampaign(ctx context.Context, c rempart.Caller, tenant string, in rempart.CampaignCreate) (rempart.Campaign, error) {
	id := rempart.NewID("arc")
	e := c.Entry(tenant, "review.create", scopePath(tenant)+"/access-reviews/"+id)
	if err := s.authorize(ctx, c, tenant, e); err != nil {
		return rempart.Campaign{}, err
	}
	now := s.clock.Now()
	name, err := text("name", in.Name, 0, 100)
	if err != nil {
		return rempart.Campaign{}, s.deny(ctx, e, err)
	}
	if name == "" {
		name = "Access review " + now.UTC().Format("2006-01-02")
	}
	due := s.cfg.DueIn
	if in.DueInDays != 0 {
		if in.DueInDays < 1 || in.DueInDays > 90 {
			return rempart.Campaign{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "due_in_days must be between 1 and 90."))
		}
		due = time.Duration(in.DueInDays) * 24 * time.Hour
	}
	return s.open(ctx, e, rempart.Campaign{ID: id, TenantID: tenant, Name: name, CreatedBy: c.Principal.ID, CreatedAt: now, DueAt: now.Add(due)})
}

// open snapshots the scope's accounts and stores the campaign.
func (s *Service) open(ctx context.Context, e rempart.AuditEntry, cp rempart.Campaign) (rempart.Campaign, error) {
	accounts, err := s.store.ReviewAccounts(ctx, cp.TenantID)
	if err != nil {
		return rempart.Campaign{}, err
	}
	items := make([]rempart.ReviewItem, 0, len(accounts))
	for _, a := range accounts {
		it, err := s.item(ctx, a, cp.CreatedAt)
		if err != nil {
			return rempart.Campaign{}, err
		}
		items = append(items, it)
	}
	cp.Accounts = len(items)
	if len(items) == 0 {
		cp.ClosedAt = &cp.CreatedAt // nothing to review
	}
	e.Reason = strings.TrimSpace(cp.Period + " " + plural(len(items), "account"))
	if err := s.store.CreateCampaign(ctx, e, cp, items); err != nil {
		return rempart.Campaign{}, err
	}
	return cp, nil
}

func plural(n int, what string) string {
	s := strconv.Itoa(n) + " " + what
	if n != 1 {
		s += "s"
	}
	return s
}

// item is the snapshot of an account at now, with its flags:
//   - dormant: a user who has not signed in for Config.Dormant (90 days), or
//     never did and was created that long ago (service accounts' key use is
//     not tracked, so they are never flagged dormant);
//   - no_mfa: a user with no second factor enrolled;
//   - privileged: an administrator of its scope (admin, system_admin);
//   - pending_offboarding: access already withdrawn but the account kept: a
//     suspended user, or a service account none of whose keys works.
func (s *Service) item(ctx context.Context, a Account, now time.Time) (rempart.ReviewItem, error) {
	it := rempart.ReviewItem{PrincipalID: a.Principal.ID, Kind: a.Kind, Name: a.Principal.Name, Email: a.Email, Role: a.Principal.Role,
		Status: a.Status, CreatedAt: a.CreatedAt, LastLoginAt: a.LastLoginAt, MFA: rempart.MFANotApplicable, Grants: []string{}, Flags: []string{}}
	// Only the vendor's staff request grants (IAM-7): a tenant's accounts
	// hold none, so a tenant's snapshot does not ask for them account by
	// account.
	if a.Principal.TenantID == "" {
		grants, err := s.cfg.Grants.ActiveGrants(ctx, a.Principal.ID, now)
		if err != nil {
			return it, err
		}
		it.Grants = append(it.Grants, grants...)
	}
	if a.Kind == rempart.ReviewUser {
		enrolled, err := s.cfg.MFA.MFAEnrolled(ctx, a.Principal.ID)
		if err != nil {
			return it, err
		}
		it.MFA = rempart.MFANone
		if enrolled {
			it.MFA = rempart.MFAEnrolled
		}
		last := a.CreatedAt
		if a.LastLoginAt != nil {
			last = *a.LastLoginAt
		}
		if now.Sub(last) > s.cfg.Dormant {
			it.Flags = append(it.Flags, rempart.FlagDormant)
		}
		if !enrolled {
			it.Flags = append(it.Flags, rempart.FlagNoMFA)
		}
	}
	if privileged(a.Principal.Role) {
		it.Flags = append(it.Flags, rempart.FlagPrivileged)
	}
	if a.Status == rempart.UserSuspended || a.Status == ServiceAccountNoKeys {
		it.Flags = append(it.Flags, rempart.FlagPendingOffboarding)
	}
	return it, nil
}

// Campaigns lists a scope's campaigns, newest first.
func (s *Service) Campaigns(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Campaign, error) {
	e := c.Entry(tenant, "review.list", scopePath(tenant)+"/access-reviews")
	if err := s.authorize(ctx, c, tenant, e); err != nil {
		return nil, err
	}
	out, err := s.store.Campaigns(ctx, tenant, maxList)
	if err != nil {
		return nil, err
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// Campaign returns a campaign of the scope with its items.
func (s *Service) Campaign(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.CampaignDetail, error) {
	e := c.Entry(tenant, "review.read", scopePath(tenant)+"/access-reviews/"+id)
	if err := s.authorize(ctx, c, tenant, e); err != nil {
		return rempart.CampaignDetail{}, err
	}
	out, err := s.store.Campaign(ctx, tenant, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return out, s.deny(ctx, e, err)
	} else if err != nil {
		return out, err
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// Decide records a reviewer's decision on one account of an open campaign:
//   - keep: nothing changes;
//   - change_role: a role change request (IAM-10) to in.Role, which another
//     person approves like any other;
//   - revoke: at once, in the decision's transaction, the user is suspended
//     and its sessions end, or every key of the service account is revoked.
//
// Nobody decides on their own account. The campaign closes with its last
// decision.
func (s *Service) Decide(ctx context.Context, c rempart.Caller, tenant, campaignID, principalID string, in rempart.ReviewDecision) (rempart.ReviewDecided, error) {
	e := c.Entry(tenant, "review.decide", scopePath(tenant)+"/access-reviews/"+campaignID+"/items/"+principalID)
	if err := s.authorizeChange(ctx, c, tenant, e); err != nil {
		return rempart.ReviewDecided{}, err
	}
	cp, it, err := s.store.CampaignItem(ctx, tenant, campaignID, principalID)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return rempart.ReviewDecided{}, s.deny(ctx, e, err)
	} else if err != nil {
		return rempart.ReviewDecided{}, err
	}
	note, err := text("note", in.Note, 0, 500)
	switch {
	case err != nil:
	case cp.ClosedAt != nil:
		err = rempart.Errorf(rempart.ECONFLICT, "This campaign is closed.")
	case it.Decision != "":
		err = rempart.Errorf(rempart.ECONFLICT, "This account was already decided: %s.", it.Decision)
	case principalID == c.Principal.ID:
		err = rempart.Errorf(rempart.EFORBIDDEN, "Another reviewer must decide on your own account.")
	case in.Decision != rempart.DecisionKeep && in.Decision != rempart.DecisionChangeRole && in.Decision != rempart.DecisionRevoke:
		err = rempart.Errorf(rempart.EINVALID, "decision must be keep, change_role or revoke.")
	case in.Decision != rempart.DecisionChangeRole && in.Role != "":
		err = rempart.Errorf(rempart.EINVALID, "role goes only with the change_role decision.")
	}
	if err != nil {
		return rempart.ReviewDecided{}, s.deny(ctx, e, err)
	}
	now := s.clock.Now()
	it.Decision, it.Note, it.DecidedBy, it.DecidedAt = in.Decision, note, c.Principal.ID, &now
	var rc *rempart.RoleChange
	if in.Decision == rempart.DecisionChangeRole {
		reason := note
		if reason == "" {
			reason = "Access review: " + cp.Name
		}
		rc = &rempart.RoleChange{ID: rempart.NewID("rch"), TenantID: tenant, PrincipalID: principalID, ToRole: in.Role,
			RequestedBy: c.Principal.ID, RequestedAt: now, Status: rempart.RoleChangePending, CampaignID: campaignID}
		if err := s.fillRequest(ctx, tenant, rc, reason); err != nil {
			return rempart.ReviewDecided{}, s.deny(ctx, e, err)
		}
		it.NewRole, it.RoleChangeID = in.Role, rc.ID
	}
	e.Reason = in.Decision
	switch {
	case rc != nil:
		e.Reason += " to " + rc.ToRole + ": request " + rc.ID
	case in.Decision == rempart.DecisionRevoke && it.Kind == rempart.ReviewUser:
		e.Reason += ": user suspended, sessions ended"
	case in.Decision == rempart.DecisionRevoke:
		e.Reason += ": every key revoked"
	}
	closed, err := s.store.DecideItem(ctx, e, tenant, campaignID, it, rc)
	if err != nil {
		return rempart.ReviewDecided{}, err
	}
	cp.Decided++
	if closed {
		cp.ClosedAt = &now
	}
	return rempart.ReviewDecided{Campaign: cp, Item: it}, nil
}

// Quarterly opens, for the staff and every tenant, the campaign of the
// current calendar quarter unless the scope has it: the scheduled job calls
// it daily, so the campaign opens on the first day of the quarter (or the
// first day rempart runs in it), once whichever node runs the job.
func (s *Service) Quarterly(ctx context.Context) (opened int, err error) {
	now := s.clock.Now()
	ts, err := s.store.Tenants(ctx)
	if err != nil {
		return 0, err
	}
	scopes := []string{""}
	for _, t := range ts {
		scopes = append(scopes, t.ID)
	}
	q := quarter(now)
	for _, tenant := range scopes {
		// Checked first, so that the daily run neither snapshots nor
		// audits anything once the quarter's campaign exists.
		if has, err := s.store.HasPeriodCampaign(ctx, tenant, q); err != nil {
			return opened, err
		} else if has {
			continue
		}
		id := rempart.NewID("arc")
		e := System.Entry(tenant, "review.create", scopePath(tenant)+"/access-reviews/"+id)
		_, err := s.open(ctx, e, rempart.Campaign{ID: id, TenantID: tenant, Name: "Quarterly access review " + q, Period: q,
			CreatedBy: System.Principal.ID, CreatedAt: now, DueAt: now.Add(s.cfg.DueIn)})
		switch {
		case rempart.ErrorCode(err) == rempart.ECONFLICT:
		case rempart.ErrorCode(err) == rempart.ENOTFOUND:
			// The tenant was deleted meanwhile.
		case err != nil:
			return opened, err
		default:
			opened++
		}
	}
	return opened, nil
}

// Remind records, once a day per campaign, a reminder of each open
// campaign past its due date: an audit entry (review.remind, a security
// program event in every audit view of the scope) and a row the campaign
// shows, then hands it to the Notifier when one is configured.
func (s *Service) Remind(ctx context.Context) (sent int, err error) {
	now := s.clock.Now()
	cs, err := s.store.OverdueCampaigns(ctx, now)
	if err != nil {
		return 0, err
	}
	for _, cp := range cs {
		r := Reminder{CampaignID: cp.ID, TenantID: cp.TenantID, Day: now.UTC().Format("2006-01-02"), Pending: cp.Accounts - cp.Decided, At: now}
		e := System.Entry(cp.TenantID, "review.remind", scopePath(cp.TenantID)+"/access-reviews/"+cp.ID)
		e.Reason = "overdue since " + cp.DueAt.UTC().Format(time.RFC3339) + "; " + plural(r.Pending, "account") + " undecided"
		ok, err := s.store.RecordReminder(ctx, e, r)
		if err != nil {
			return sent, err
		}
		if !ok {
			continue
		}
		sent++
		if s.cfg.Notify != nil {
			if err := s.cfg.Notify.RemindReviewers(ctx, cp, r.Pending); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}
