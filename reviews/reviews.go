// Package reviews holds the access governance processes of people and
// service accounts: role changes through a request that a second person
// approves (IAM-10), and access review campaigns, quarterly and on demand,
// in which reviewers keep, change or revoke every account's access (IAM-9).
//
// A scope is a tenant's accounts (its users and service accounts), managed by
// the tenant's admins, or the vendor's own ("" : staff users and the
// deployment's system service accounts), managed by staff administrators.
// Like identity, the package imports no HTTP or SQL: its Store is the
// storage adapter, and three small interfaces bring in what other parts of
// the system know (MFA enrolment, active grants, reminder delivery).
package reviews

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// Account is a live user or service account of a scope, as storage knows
// it.
type Account struct {
	Principal   rempart.Principal
	Kind        string // rempart.ReviewUser or rempart.ReviewServiceAccount
	Email       string // users only
	Status      string // users: their status; service accounts: active, or no_keys when no key works
	CreatedAt   time.Time
	LastLoginAt *time.Time // users only: service accounts' key use is not tracked
}

// ServiceAccountNoKeys is the status of a service account none of whose keys
// works any more.
const ServiceAccountNoKeys = "no_keys"

// Reminder records a reminder of an overdue campaign.
type Reminder struct {
	CampaignID string
	TenantID   string
	Day        string // YYYY-MM-DD, UTC
	Pending    int    // items still undecided
	At         time.Time
}

// Store is what reviews needs from storage. Methods that take a tenant ID
// ("" for staff) are called only after the service authorised the caller for
// that scope; every write records its audit entry in the same transaction.
type Store interface {
	Audit(ctx context.Context, e rempart.AuditEntry) (rempart.AuditEntry, error)
	Tenant(ctx context.Context, id string) (rempart.Tenant, error)
	Tenants(ctx context.Context) ([]rempart.Tenant, error)

	// ReviewAccounts lists the live users and service accounts of a scope,
	// oldest first.
	ReviewAccounts(ctx context.Context, tenant string) ([]Account, error)
	// ReviewAccount returns one live account of a scope, or ENOTFOUND.
	ReviewAccount(ctx context.Context, tenant, id string) (Account, error)

	// CreateRoleChange stores a pending request.
	CreateRoleChange(ctx context.Context, e rempart.AuditEntry, rc rempart.RoleChange) error
	// RoleChange returns a request of a scope, or ENOTFOUND.
	RoleChange(ctx context.Context, tenant, id string) (rempart.RoleChange, error)
	// RoleChanges lists a scope's requests, newest first, at most limit.
	RoleChanges(ctx context.Context, tenant string, limit int) ([]rempart.RoleChange, error)
	// DecideRoleChange marks a pending request of a scope approved or
	// rejected by `by` at `at`; an approval sets the principal's role, in
	// the same transaction. ECONFLICT when the request is no longer
	// pending, or the principal no longer holds the request's from_role or
	// was removed.
	DecideRoleChange(ctx context.Context, e rempart.AuditEntry, tenant, id, status, by, note string, at time.Time) error

	// CreateCampaign stores a campaign with its items; ECONFLICT when the
	// scope has a campaign of the same period.
	CreateCampaign(ctx context.Context, e rempart.AuditEntry, c rempart.Campaign, items []rempart.ReviewItem) error
	// HasPeriodCampaign reports whether a scope has the campaign of a
	// period (such as "2026-Q4").
	HasPeriodCampaign(ctx context.Context, tenant, period string) (bool, error)
	// Campaigns lists a scope's campaigns, newest first, at most limit.
	Campaigns(ctx context.Context, tenant string, limit int) ([]rempart.Campaign, error)
	// Campaign returns a campaign of a scope with its items, or ENOTFOUND.
	Campaign(ctx context.Context, tenant, id string) (rempart.CampaignDetail, error)
	// CampaignItem returns a campaign of a scope (without its items) and
	// one of its items, or ENOTFOUND.
	CampaignItem(ctx context.Context, tenant, campaignID, principalID string) (rempart.Campaign, rempart.ReviewItem, error)
	// DecideItem records the decision on an undecided item of an open
	// campaign of a scope. With rempart.DecisionRevoke it suspends the
	// user and ends its sessions, or revokes every key of the service
	// account; with rc (change_role) it stores that pending request. When
	// no item is left undecided the campaign closes. All in one
	// transaction; ECONFLICT when the campaign closed or the item was
	// decided meanwhile. It reports whether the campaign closed.
	DecideItem(ctx context.Context, e rempart.AuditEntry, tenant, campaignID string, item rempart.ReviewItem, rc *rempart.RoleChange) (closed bool, err error)
	// OverdueCampaigns lists the open campaigns of every scope due before
	// now.
	OverdueCampaigns(ctx context.Context, now time.Time) ([]rempart.Campaign, error)
	// RecordReminder stores a campaign's reminder of the day unless there is
	// one; it reports whether it stored it.
	RecordReminder(ctx context.Context, e rempart.AuditEntry, r Reminder) (bool, error)
}

// MFAStatus says whether a user has a second factor enrolled (IAM-4).
type MFAStatus interface {
	MFAEnrolled(ctx context.Context, userID string) (bool, error)
}

// Grants lists the active just-in-time grants of a principal (IAM-7), each
// as a short description such as "tenant ten_x records:read until …".
type Grants interface {
	ActiveGrants(ctx context.Context, principalID string, at time.Time) ([]string, error)
}

// Notifier delivers a reminder of an overdue campaign to its reviewers, once
// the day's reminder is recorded (and audited) by the service.
type Notifier interface {
	RemindReviewers(ctx context.Context, c rempart.Campaign, pending int) error
}

// NoMFA is the MFA status when none is given (tests): every user is
// reported without a second factor and flagged no_mfa, the cautious answer.
// rempart serve gives the real one (cmd/rempart/reviews.go).
type NoMFA struct{}

// MFAEnrolled reports false.
func (NoMFA) MFAEnrolled(context.Context, string) (bool, error) { return false, nil }

// NoGrants lists no grants; the default when none is given (tests).
type NoGrants struct{}

// ActiveGrants returns none.
func (NoGrants) ActiveGrants(context.Context, string, time.Time) ([]string, error) { return nil, nil }

// Config tunes the service.
type Config struct {
	// MFA answers "has this user a second factor"; NoMFA when nil.
	MFA MFAStatus
	// Grants lists a principal's active grants; NoGrants when nil.
	Grants Grants
	// Notify delivers reminders beyond the audited record; none when nil.
	Notify Notifier
	// DueIn is how long reviewers have by default; 14 days when zero.
	DueIn time.Duration
	// Dormant is how long without sign-in makes an account dormant; 90
	// days when zero.
	Dormant time.Duration
}

// Service runs role changes and access reviews.
type Service struct {
	store Store
	clock rempart.Clock
	cfg   Config
}

// New returns the service.
func New(store Store, clock rempart.Clock, cfg Config) *Service {
	if cfg.MFA == nil {
		cfg.MFA = NoMFA{}
	}
	if cfg.Grants == nil {
		cfg.Grants = NoGrants{}
	}
	if cfg.DueIn <= 0 {
		cfg.DueIn = 14 * 24 * time.Hour
	}
	if cfg.Dormant <= 0 {
		cfg.Dormant = 90 * 24 * time.Hour
	}
	return &Service{store: store, clock: clock, cfg: cfg}
}

// maxList bounds the lists a scope's requests and campaigns return.
const maxList = 500

// System is the caller of the scheduled campaigns and reminders.
var System = rempart.Caller{Principal: rempart.Principal{ID: "system:reviews"}}

func (s *Service) deny(ctx context.Context, e rempart.AuditEntry, err error) error {
	e.Outcome = rempart.OutcomeDenied
	if e.Reason == "" {
		e.Reason = rempart.ErrorCode(err)
	}
	if _, aerr := s.store.Audit(ctx, e); aerr != nil {
		return aerr
	}
	return err
}

// scopePath is the audit resource prefix of a scope.
func scopePath(tenant string) string {
	if tenant == "" {
		return "staff"
	}
	return "tenants/" + tenant
}

// authorize lets staff administrators manage the staff scope and those who
// manage a tenant's accounts (its admins, and staff administrators) manage
// the tenant's; anyone else is denied, audited. Another tenant's scope is not
// found (TEN-1).
func (s *Service) authorize(ctx context.Context, c rempart.Caller, tenant string, e rempart.AuditEntry) error {
	if tenant == "" {
		if err := guard.AuthorizeSystem(c, guard.StaffManage); err != nil {
			return s.deny(ctx, e, err)
		}
		return nil
	}
	t, err := s.store.Tenant(ctx, tenant)
	if err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return s.deny(ctx, e, err)
		}
		return err
	}
	if _, err := guard.Authorize(c, t, guard.AccountsManage); err != nil {
		return s.deny(ctx, e, err)
	}
	return nil
}

// authorizeChange is authorize for a change of someone's access: in the
// staff scope, where an approved role change can make a system
// administrator, it also needs a second factor proven recently (IAM-4
// step-up), like every other staff change (invitations, suspensions,
// revocations, single sign-on providers).
func (s *Service) authorizeChange(ctx context.Context, c rempart.Caller, tenant string, e rempart.AuditEntry) error {
	if err := s.authorize(ctx, c, tenant, e); err != nil {
		return err
	}
	if err := guard.StaffStepUp(c, tenant); err != nil {
		return s.deny(ctx, e, err)
	}
	return nil
}

// roles are the roles an account of the scope may hold.
func roles(tenant string) []string {
	if tenant == "" {
		return rempart.StaffRoles
	}
	return rempart.TenantRoles
}

// privileged reports whether a role administers its scope.
func privileged(role string) bool {
	return role == rempart.RoleAdmin || role == rempart.RoleSystemAdmin
}

// text validates a free-text field: at most max characters, printable, on
// one line; required unless min is 0.
func text(field, s string, min, max int) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	bad := !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) }) >= 0
	if n < min || n > max || bad {
		if min == 0 {
			return "", rempart.Errorf(rempart.EINVALID, "%s must be at most %d characters on one line.", field, max)
		}
		return "", rempart.Errorf(rempart.EINVALID, "%s must be %d to %d characters on one line.", field, min, max)
	}
	return s, nil
}

// quarter names the calendar quarter of t (UTC), such as "2026-Q4".
func quarter(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
}

func validRole(tenant, role string) error {
	if !slices.Contains(roles(tenant), role) {
		return rempart.Errorf(rempart.EINVALID, "role must be one of %s.", strings.Join(roles(tenant), ", "))
	}
	return nil
}
