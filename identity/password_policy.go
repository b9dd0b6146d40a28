package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity/password"
)

// policyFor returns the password policy of tenant's users ("" for staff):
// the deployment's, with the tenant's overrides (IAM-3).
func (s *Service) policyFor(ctx context.Context, tenant string) (password.Policy, error) {
	if tenant == "" {
		return s.cfg.PasswordPolicy, nil
	}
	tp, err := s.store.TenantPasswordPolicy(ctx, tenant)
	if err != nil {
		return password.Policy{}, err
	}
	return s.cfg.PasswordPolicy.WithTenant(tp)
}

// checkerFor is the password checker under tenant's policy.
func (s *Service) checkerFor(ctx context.Context, tenant string) (*password.Checker, password.Policy, error) {
	p, err := s.policyFor(ctx, tenant)
	if err != nil {
		return nil, p, err
	}
	ch := *s.checker
	ch.Policy = p
	return &ch, p, nil
}

const day = 24 * time.Hour

func policyInfo(tp password.TenantPolicy, p password.Policy) rempart.PasswordPolicyInfo {
	out := rempart.PasswordPolicyInfo{MinLength: p.MinLength, MaxAgeDays: int(p.MaxAge / day), History: p.History}
	out.Overrides.MinLength, out.Overrides.History = tp.MinLength, tp.History
	if tp.MaxAge != nil {
		d := int(*tp.MaxAge / day)
		out.Overrides.MaxAgeDays = &d
	}
	return out
}

// PasswordPolicy returns a tenant's password policy overrides and the
// policy in effect for its users.
func (s *Service) PasswordPolicy(ctx context.Context, c rempart.Caller, tenant string) (rempart.PasswordPolicyInfo, error) {
	e := c.Entry(tenant, "tenant.password_policy.read", "tenants/"+tenant+"/password-policy")
	if _, err := s.authorize(ctx, c, tenant, e); err != nil {
		return rempart.PasswordPolicyInfo{}, err
	}
	tp, err := s.store.TenantPasswordPolicy(ctx, tenant)
	if err != nil {
		return rempart.PasswordPolicyInfo{}, err
	}
	p, err := s.cfg.PasswordPolicy.WithTenant(tp)
	if err != nil {
		return rempart.PasswordPolicyInfo{}, err
	}
	_, err = s.store.Audit(ctx, e)
	return policyInfo(tp, p), err
}

// SetPasswordPolicy replaces a tenant's overrides of the password policy
// (IAM-3): minimum length, expiry in days (0: never), history. Null fields
// inherit the deployment's values; the result must meet the floors. The
// new rules apply to the next password set, and expiry at the next sign-in.
func (s *Service) SetPasswordPolicy(ctx context.Context, c rempart.Caller, tenant string, in rempart.TenantPasswordPolicy) (rempart.PasswordPolicyInfo, error) {
	e := c.Entry(tenant, "tenant.password_policy.update", "tenants/"+tenant+"/password-policy")
	if _, err := s.authorize(ctx, c, tenant, e); err != nil {
		return rempart.PasswordPolicyInfo{}, err
	}
	tp := password.TenantPolicy{MinLength: in.MinLength, History: in.History}
	if in.MaxAgeDays != nil {
		if *in.MaxAgeDays < 0 || *in.MaxAgeDays > 3650 {
			return rempart.PasswordPolicyInfo{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "max_age_days must be 0 (never) or 30 to 3650."))
		}
		a := time.Duration(*in.MaxAgeDays) * day
		tp.MaxAge = &a
	}
	p, err := s.cfg.PasswordPolicy.WithTenant(tp)
	if err != nil {
		return rempart.PasswordPolicyInfo{}, s.deny(ctx, e, err)
	}
	e.Reason = policySummary(p)
	if err := s.store.SetTenantPasswordPolicy(ctx, e, tenant, tp); err != nil {
		return rempart.PasswordPolicyInfo{}, err
	}
	return policyInfo(tp, p), nil
}

func policySummary(p password.Policy) string {
	return fmt.Sprintf("min_length=%d max_age_days=%d history=%d", p.MinLength, int(p.MaxAge/day), p.History)
}
