package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/identity/totp"
)

// TestMFAOverTheAPI: sign-in with and without a second factor, the code not
// accepted twice, step-up before a root key rotation, and a tenant's MFA
// requirement (IAM-4).
func TestMFAOverTheAPI(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	adminC, adminKey := s.admin()
	admin := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	_, ops := person(t, s, admin, "", "ops@example.com", rempart.RoleSystemAdmin) // enrols TOTP
	secret := s.totp["ops@example.com"]
	anon := client.New(s.srv.URL)

	in := rempart.SignIn{Email: "ops@example.com", Password: goodPassword}
	if _, err := anon.SignIn(ctx, in); code(err) != rempart.EMFAREQUIRED {
		t.Fatalf("sign-in without the code: %v, want 403 mfa_required", err)
	}
	s.clock.Advance(30 * time.Second)
	in.Code = totp.Code(secret, s.clock.Now())
	sess, err := anon.SignIn(ctx, in)
	if err != nil || sess.MFAAt == nil {
		t.Fatalf("sign-in with the code: %+v, %v", sess, err)
	}
	if _, err := anon.SignIn(ctx, in); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("the same code again within its window: %v, want unauthorized", err)
	}

	// Step-up: eleven minutes after the code, a root key rotation needs a
	// new one; a service account's key does not.
	s.clock.Advance(11 * time.Minute)
	ops = anon.WithKey(sess.Token)
	if _, err := ops.RotateRootKey(ctx); code(err) != rempart.EMFAREQUIRED {
		t.Fatalf("root key rotation without a recent second factor: %v, want mfa_required", err)
	}
	if err := ops.VerifyMFA(ctx, "000000"); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("step-up with a wrong code: %v", err)
	}
	if err := ops.VerifyMFA(ctx, totp.Code(secret, s.clock.Now())); err != nil {
		t.Fatalf("step-up: %v", err)
	}
	if _, err := ops.RotateRootKey(ctx); err != nil {
		t.Fatalf("root key rotation after step-up: %v", err)
	}
	list, err := ops.Factors(ctx)
	if err != nil || len(list.Factors) != 1 || list.Factors[0].Kind != rempart.FactorTOTP || list.RecoveryCodesLeft != 10 {
		t.Fatalf("factors: %+v, %v", list, err)
	}

	// A tenant that requires MFA: its user without a factor can only enrol.
	ten := s.tenant(adminC, "acme")
	_, bob := person(t, s, admin, ten, "bob@acme.example", rempart.RoleReader)
	if _, err := bob.GetTenant(ctx, ten); err != nil {
		t.Fatalf("before the requirement: %v", err)
	}
	if p, err := admin.SetMFAPolicy(ctx, ten, rempart.MFAPolicy{Required: true}); err != nil || !p.Required {
		t.Fatalf("set policy: %+v, %v", p, err)
	}
	bs, err := anon.SignIn(ctx, rempart.SignIn{Email: "bob@acme.example", Password: goodPassword})
	if err != nil || !bs.EnrolOnly {
		t.Fatalf("sign-in under the requirement: %+v, %v; want enrolment only", bs, err)
	}
	bob = anon.WithKey(bs.Token)
	if _, err := bob.GetTenant(ctx, ten); code(err) != rempart.EMFAREQUIRED {
		t.Fatalf("an enrolment-only session reading its tenant: %v, want mfa_required", err)
	}
	en, err := bob.StartTOTP(ctx, rempart.TOTPStart{Name: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	bsecret, _ := totp.DecodeSecret(en.Secret)
	if _, err := bob.ConfirmFactor(ctx, en.ID, totp.Code(bsecret, s.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.GetTenant(ctx, ten); err != nil {
		t.Fatalf("after enrolment: %v", err)
	}
	entries, err := admin.AuditEntries(ctx, client.AuditOptions{Limit: 100, Action: "tenant.mfa_policy.update"})
	if err != nil || len(entries.Entries) != 1 || entries.Entries[0].Reason != "required=true" {
		t.Fatalf("audit of the policy change: %+v, %v", entries, err)
	}
}
