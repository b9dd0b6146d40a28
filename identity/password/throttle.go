package password

import (
	"container/list"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rempart/rempart"
)

// ThrottleConfig tunes a Throttle. Zero fields take the defaults.
type ThrottleConfig struct {
	Window          time.Duration // failures older than this are forgotten (15m)
	FreeFailures    int           // account failures before delays start (3)
	BaseDelay       time.Duration // first delay, doubling per failure (1s)
	MaxDelay        time.Duration // longest delay short of lockout (5m)
	LockoutFailures int           // account failures that lock it out (10)
	LockoutDuration time.Duration // how long a lockout lasts (15m)
	// Client addresses share NATs, so they get more room before the same
	// growing delays and lockout apply.
	IPFreeFailures    int // (20)
	IPLockoutFailures int // (100)
	// SprayAccounts distinct account names failing from one address within
	// the window raise a password-spraying event, and from then on the
	// address's delays start at once rather than after IPFreeFailures (10).
	SprayAccounts int
	// MaxKeys caps the tracked accounts, and separately the tracked
	// addresses; the least recently failed are evicted first (20,000).
	MaxKeys int
}

func (c *ThrottleConfig) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setD(&c.Window, 15*time.Minute)
	set(&c.FreeFailures, 3)
	setD(&c.BaseDelay, time.Second)
	setD(&c.MaxDelay, 5*time.Minute)
	set(&c.LockoutFailures, 10)
	setD(&c.LockoutDuration, 15*time.Minute)
	set(&c.IPFreeFailures, 20)
	set(&c.IPLockoutFailures, 100)
	set(&c.SprayAccounts, 10)
	set(&c.MaxKeys, 20000)
}

// Event is a security event a sign-in failure should raise, for monitoring.
type Event string

// Events reported by Throttle.Failure, each once per episode.
const (
	EventAccountLockout Event = "password.account_lockout" // an account name reached the lockout
	EventAddressLockout Event = "password.address_lockout" // a client address reached the lockout
	EventSpraying       Event = "password.spraying"        // one address failing across many accounts
)

// Decision is the throttle's answer for one account name and address.
type Decision struct {
	RetryAfter time.Duration // 0 when an attempt may go ahead
	Locked     bool          // the wait is a lockout, not just a delay
	Events     []Event       // to record as security events (Failure only)
}

// Allowed reports whether a sign-in attempt may go ahead now.
func (d Decision) Allowed() bool { return d.RetryAfter <= 0 }

// Err is nil when allowed, else ERATELIMIT carrying RetryAfter for a 429
// with Retry-After. The message is the same for existing and unknown
// accounts.
func (d Decision) Err() error {
	if d.Allowed() {
		return nil
	}
	e := rempart.Errorf(rempart.ERATELIMIT, "Too many failed sign-in attempts; try again in %s.", d.RetryAfter.Round(time.Second))
	e.RetryAfter = d.RetryAfter
	return e
}

// Throttle tracks sign-in failures per account name and per client address.
// It is keyed on the name as submitted, so names of accounts that do not
// exist are throttled exactly like real ones. It is safe for concurrent use;
// state is in memory, per node.
type Throttle struct {
	cfg      ThrottleConfig
	clock    rempart.Clock
	mu       sync.Mutex
	accounts table
	addrs    table
}

// NewThrottle returns a Throttle telling time by clock.
func NewThrottle(cfg ThrottleConfig, clock rempart.Clock) *Throttle {
	cfg.defaults()
	return &Throttle{cfg: cfg, clock: clock, accounts: newTable(cfg.MaxKeys), addrs: newTable(cfg.MaxKeys)}
}

// Check tells whether an attempt for account from ip may go ahead. Call it
// before verifying the password, and answer 429 when it is not allowed.
func (t *Throttle) Check(account, ip string) Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	d := Decision{}
	for _, r := range []*record{t.peek(&t.accounts, accountKey(account), now), t.peek(&t.addrs, addrKey(ip), now)} {
		if r != nil && r.blockedUntil.After(now) && r.blockedUntil.Sub(now) > d.RetryAfter {
			d.RetryAfter, d.Locked = r.blockedUntil.Sub(now), r.locked
		}
	}
	return d
}

// Failure records a failed attempt and returns the wait before the next one
// with any security events to raise.
func (t *Throttle) Failure(account, ip string) Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	acct := accountKey(account)
	var events []Event
	a := t.fail(&t.accounts, acct, now, t.cfg.FreeFailures, t.cfg.LockoutFailures)
	if a.failures == t.cfg.LockoutFailures {
		events = append(events, EventAccountLockout)
	}
	ipKey := addrKey(ip)
	n := t.peek(&t.addrs, ipKey, now)
	if n == nil {
		n = t.addrs.add(ipKey, now)
	}
	if len(n.names) < t.cfg.SprayAccounts && !slices.Contains(n.names, acct) {
		n.names = append(n.names, acct)
		if len(n.names) == t.cfg.SprayAccounts {
			events = append(events, EventSpraying)
		}
	}
	// An address that sprays loses the room a shared NAT gets: its delays
	// start with its next failure.
	free := t.cfg.IPFreeFailures
	if len(n.names) >= t.cfg.SprayAccounts {
		free = min(free, t.cfg.SprayAccounts)
	}
	n = t.fail(&t.addrs, ipKey, now, free, t.cfg.IPLockoutFailures)
	if n.failures == t.cfg.IPLockoutFailures {
		events = append(events, EventAddressLockout)
	}
	d := Decision{Events: events}
	for _, r := range []*record{a, n} {
		if w := r.blockedUntil.Sub(now); w > d.RetryAfter {
			d.RetryAfter, d.Locked = w, r.locked
		}
	}
	return d
}

// Success forgets the account's failures. The address keeps its count, so
// one correct guess does not reset a spraying client.
func (t *Throttle) Success(account, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.accounts.remove(accountKey(account))
}

// fail counts one failure on key and sets its delay or lockout.
func (t *Throttle) fail(tb *table, key string, now time.Time, free, lockout int) *record {
	r := t.peek(tb, key, now)
	if r == nil {
		r = tb.add(key, now)
	}
	tb.touch(r)
	r.failures++
	switch {
	case r.failures >= lockout:
		r.blockedUntil, r.locked = now.Add(t.cfg.LockoutDuration), true
	case r.failures > free:
		delay := t.cfg.MaxDelay
		if shift := r.failures - free - 1; shift < 30 {
			delay = min(t.cfg.BaseDelay<<shift, t.cfg.MaxDelay)
		}
		r.blockedUntil = now.Add(delay)
	}
	return r
}

// peek returns key's record, or nil if absent or its episode is over (window
// passed and no wait pending), in which case it is dropped.
func (t *Throttle) peek(tb *table, key string, now time.Time) *record {
	r := tb.m[key]
	if r != nil && now.Sub(r.first) >= t.cfg.Window && !r.blockedUntil.After(now) {
		tb.remove(key)
		return nil
	}
	return r
}

// accountKey normalises a submitted account name.
func accountKey(account string) string { return strings.ToLower(strings.TrimSpace(account)) }

// addrKey groups IPv6 clients by /64, the block one subscriber usually
// holds, so rotating addresses within it does not escape the limit.
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// record is the failure state of one key.
type record struct {
	key          string
	first        time.Time // start of the window
	failures     int
	blockedUntil time.Time
	locked       bool
	names        []string // addresses only: distinct account names failed, up to SprayAccounts
	elem         *list.Element
}

// table is a map with least-recently-failed eviction beyond max entries.
type table struct {
	m   map[string]*record
	lru *list.List // front: most recent
	max int
}

func newTable(max int) table { return table{m: make(map[string]*record), lru: list.New(), max: max} }

func (tb *table) add(key string, now time.Time) *record {
	for len(tb.m) >= tb.max {
		tb.remove(tb.lru.Back().Value.(*record).key)
	}
	r := &record{key: key, first: now}
	r.elem = tb.lru.PushFront(r)
	tb.m[key] = r
	return r
}

func (tb *table) touch(r *record) { tb.lru.MoveToFront(r.elem) }

func (tb *table) remove(key string) {
	if r, ok := tb.m[key]; ok {
		tb.lru.Remove(r.elem)
		delete(tb.m, key)
	}
}
