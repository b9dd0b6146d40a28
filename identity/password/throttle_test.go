package password

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rempart/rempart"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newTestThrottle(cfg ThrottleConfig) (*Throttle, *fakeClock) {
	clk := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	return NewThrottle(cfg, clk), clk
}

func TestThrottleDelaysGrowThenLockout(t *testing.T) {
	th, clk := newTestThrottle(ThrottleConfig{})
	// Defaults: 3 free failures, then 1s, 2s, 4s, …; lockout (15m) at 10.
	want := []time.Duration{0, 0, 0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 15 * time.Minute}
	for i, w := range want {
		if d := th.Check("alice@example.com", "198.51.100.7"); !d.Allowed() {
			t.Fatalf("attempt %d: Check = %+v, want allowed", i+1, d)
		}
		d := th.Failure("alice@example.com", "198.51.100.7")
		if d.RetryAfter != w {
			t.Errorf("failure %d: RetryAfter = %v, want %v", i+1, d.RetryAfter, w)
		}
		if got := d.Locked; got != (i == 9) {
			t.Errorf("failure %d: Locked = %v, want %v", i+1, got, i == 9)
		}
		if got := slices.Contains(d.Events, EventAccountLockout); got != (i == 9) {
			t.Errorf("failure %d: lockout event = %v, want %v", i+1, got, i == 9)
		}
		if w > 0 {
			clk.Advance(w - time.Millisecond)
			if th.Check("Alice@Example.com ", "203.0.113.9").Allowed() {
				t.Errorf("failure %d: allowed 1ms before the delay ends (from another address, other case)", i+1)
			}
			clk.Advance(time.Millisecond)
		}
	}
}

func TestThrottleErrCarriesRetryAfter(t *testing.T) {
	th, _ := newTestThrottle(ThrottleConfig{FreeFailures: 1, BaseDelay: 30 * time.Second})
	th.Failure("bob", "192.0.2.1")
	th.Failure("bob", "192.0.2.1")
	err := th.Check("bob", "192.0.2.1").Err()
	var e *rempart.Error
	if !errors.As(err, &e) || e.Code != rempart.ERATELIMIT || e.RetryAfter != 30*time.Second {
		t.Errorf("Err() = %#v, want ERATELIMIT with RetryAfter 30s", err)
	}
	if err := th.Check("carol", "192.0.2.2").Err(); err != nil {
		t.Errorf("untouched account: Err() = %v, want nil", err)
	}
}

func TestThrottleSuccessResetsAccount(t *testing.T) {
	th, clk := newTestThrottle(ThrottleConfig{})
	for range 5 {
		th.Failure("dave", "192.0.2.1")
	}
	clk.Advance(time.Minute)
	th.Success("dave", "192.0.2.1")
	if d := th.Failure("dave", "192.0.2.1"); d.RetryAfter != 0 {
		t.Errorf("first failure after success: RetryAfter = %v, want 0", d.RetryAfter)
	}
}

func TestThrottleWindowForgets(t *testing.T) {
	th, clk := newTestThrottle(ThrottleConfig{})
	for range 3 {
		th.Failure("erin", "192.0.2.1")
	}
	clk.Advance(16 * time.Minute)
	if d := th.Failure("erin", "192.0.2.1"); d.RetryAfter != 0 {
		t.Errorf("failure after the window: RetryAfter = %v, want 0 (count restarted)", d.RetryAfter)
	}
}

func TestThrottleLockoutOutlastsWindow(t *testing.T) {
	th, clk := newTestThrottle(ThrottleConfig{Window: time.Minute, LockoutFailures: 2, FreeFailures: 5})
	th.Failure("frank", "192.0.2.1")
	th.Failure("frank", "192.0.2.1")
	clk.Advance(10 * time.Minute)
	if d := th.Check("frank", "192.0.2.9"); d.Allowed() || !d.Locked || d.RetryAfter != 5*time.Minute {
		t.Errorf("Check 10m into a 15m lockout = %+v, want locked for 5m", d)
	}
	clk.Advance(5 * time.Minute)
	if d := th.Check("frank", "192.0.2.9"); !d.Allowed() {
		t.Errorf("Check after lockout = %+v, want allowed", d)
	}
}

func TestThrottleSprayingAndAddressLimits(t *testing.T) {
	th, _ := newTestThrottle(ThrottleConfig{SprayAccounts: 4, IPFreeFailures: 5, IPLockoutFailures: 8})
	var events []Event
	var last Decision
	for i := range 8 {
		last = th.Failure(fmt.Sprintf("user%d", i), "2001:db8:1:2::10")
		events = append(events, last.Events...)
	}
	if got, want := events, []Event{EventSpraying, EventAddressLockout}; !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v (each once)", got, want)
	}
	if !last.Locked {
		t.Errorf("8th failure from the address: %+v, want locked", last)
	}
	if th.Check("someone-new", "2001:db8:1:2::99").Allowed() {
		t.Errorf("another address in the same /64 is allowed, want it locked too")
	}
	if !th.Check("someone-new", "2001:db8:1:3::1").Allowed() {
		t.Errorf("an address in another /64 is blocked, want allowed")
	}
}

// Once an address is seen spraying, its next failure is delayed, though it
// is far below the failures a shared address is otherwise allowed.
func TestThrottleSprayingSlowsTheAddress(t *testing.T) {
	th, _ := newTestThrottle(ThrottleConfig{SprayAccounts: 4, IPFreeFailures: 20})
	for i := range 4 {
		if d := th.Failure(fmt.Sprintf("user%d", i), "192.0.2.7"); !d.Allowed() {
			t.Fatalf("failure %d before spraying is recognised: %+v, want no delay", i+1, d)
		}
	}
	if !th.Check("user9", "192.0.2.7").Allowed() {
		t.Fatal("the attempt right after the spraying event is blocked, want one more")
	}
	if d := th.Failure("user4", "192.0.2.7"); d.Allowed() {
		t.Errorf("a failure after spraying: %+v, want a delay", d)
	}
	if th.Check("a-real-account", "192.0.2.7").Allowed() {
		t.Error("the spraying address may try another account at once")
	}
	if !th.Check("a-real-account", "192.0.2.8").Allowed() {
		t.Error("another address is blocked")
	}
}

func TestThrottleUnknownAccountsLikeKnown(t *testing.T) {
	th, _ := newTestThrottle(ThrottleConfig{})
	var known, unknown []Decision
	for range 10 {
		known = append(known, th.Failure("real@example.com", "192.0.2.1"))
		unknown = append(unknown, th.Failure("nobody@example.com", "192.0.2.2"))
	}
	for i := range known {
		if known[i].RetryAfter != unknown[i].RetryAfter || known[i].Locked != unknown[i].Locked {
			t.Errorf("failure %d: known %+v, unknown %+v; want identical", i+1, known[i], unknown[i])
		}
	}
}

func TestThrottleMemoryBounded(t *testing.T) {
	th, _ := newTestThrottle(ThrottleConfig{MaxKeys: 100})
	th.Failure("victim", "192.0.2.1")
	for i := range 1000 {
		th.Failure(fmt.Sprintf("flood%d", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if got := len(th.accounts.m); got != 100 {
		t.Errorf("tracked accounts = %d, want the cap 100", got)
	}
	if got := th.addrs.lru.Len(); got != 100 {
		t.Errorf("tracked addresses = %d, want the cap 100", got)
	}
	if _, ok := th.accounts.m["victim"]; ok {
		t.Errorf("oldest account still tracked, want it evicted first")
	}
	if _, ok := th.accounts.m["flood999"]; !ok {
		t.Errorf("newest account not tracked")
	}
}
