package password

import (
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
)

func TestDefaultPolicyIsIAM3(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	want := Policy{MinLength: 10, MaxLength: 256, MaxAge: 90 * 24 * time.Hour, History: 5}
	if p != want {
		t.Errorf("DefaultPolicy() = %+v, want %+v", p, want)
	}
}

func TestPolicyValidateReportsAllFloors(t *testing.T) {
	err := Policy{MinLength: 8, MaxLength: 4096, MaxAge: 7 * 24 * time.Hour, History: 2}.Validate()
	if rempart.ErrorCode(err) != rempart.EINVALID {
		t.Fatalf("Validate() = %v, want EINVALID", err)
	}
	for _, want := range []string{"at least 10", "1024 bytes", "at least 30 days", "last 5"} {
		if msg := rempart.ErrorMessage(err); !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestWithTenant(t *testing.T) {
	zero, month, twelve, three := time.Duration(0), 30*24*time.Hour, 12, 3
	p, err := DefaultPolicy().WithTenant(TenantPolicy{MinLength: &twelve, MaxAge: &month})
	if err != nil {
		t.Fatal(err)
	}
	if p.MinLength != 12 || p.MaxAge != month || p.History != 5 {
		t.Errorf("WithTenant = %+v, want MinLength 12, MaxAge 30 days, History inherited 5", p)
	}
	p, err = DefaultPolicy().WithTenant(TenantPolicy{MaxAge: &zero})
	if err != nil || p.MaxAge != 0 {
		t.Errorf("WithTenant(expiry off) = %+v, %v; want MaxAge 0, nil", p, err)
	}
	if _, ok := p.ExpiresAt(time.Now()); ok {
		t.Errorf("ExpiresAt with MaxAge 0 reports an expiry, want none")
	}
	week := 7 * 24 * time.Hour
	for name, tp := range map[string]TenantPolicy{"history": {History: &three}, "expiry": {MaxAge: &week}} {
		if _, err := DefaultPolicy().WithTenant(tp); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Errorf("WithTenant(%s below floor) = %v, want EINVALID", name, err)
		}
	}
}

func TestExpired(t *testing.T) {
	p := DefaultPolicy()
	set := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{set.Add(89 * 24 * time.Hour), false},
		{set.Add(90 * 24 * time.Hour), true},
		{set.Add(400 * 24 * time.Hour), true},
	} {
		if got := p.Expired(set, tc.now); got != tc.want {
			t.Errorf("Expired(set, set+%v) = %v, want %v", tc.now.Sub(set), got, tc.want)
		}
	}
}
