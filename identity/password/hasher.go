package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart"
	"golang.org/x/crypto/argon2"
)

// MaxHashBytes is the longest input the Hasher accepts. argon2 pre-hashes
// its input, so length costs little, but it must still be bounded; Policy
// sets the (shorter) limit for new passwords.
const MaxHashBytes = 1024

// HasherConfig tunes a Hasher. Zero fields take the defaults.
type HasherConfig struct {
	// Params are the costs of new hashes; DefaultParams when zero.
	Params Params
	// MemoryBudget caps the memory of concurrent hash computations; the
	// default concurrency is GOMAXPROCS, lowered to fit (default 64 MiB).
	MemoryBudget int64
	// MaxConcurrent overrides the computed concurrency limit.
	MaxConcurrent int
	// MaxQueue bounds callers waiting for a slot (default 16 per slot).
	MaxQueue int
	// MaxWait bounds how long a caller waits for a slot when its context
	// has no earlier deadline (default 2s).
	MaxWait time.Duration
}

// Hasher hashes and verifies passwords with bounded concurrency. It is safe
// for concurrent use.
type Hasher struct {
	params  Params
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	maxWait time.Duration
	dummy   hash // a valid hash of no password, for Equalize
}

// NewHasher returns a Hasher for cfg.
func NewHasher(cfg HasherConfig) (*Hasher, error) {
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if err := cfg.Params.Validate(); err != nil {
		return nil, err
	}
	if cfg.MemoryBudget <= 0 {
		cfg.MemoryBudget = 64 << 20
	}
	if cfg.MaxConcurrent <= 0 {
		perHash := int64(cfg.Params.Memory) << 10
		cfg.MaxConcurrent = max(1, min(runtime.GOMAXPROCS(0), int(cfg.MemoryBudget/perHash)))
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 16 * cfg.MaxConcurrent
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 2 * time.Second
	}
	h := &Hasher{
		params:  cfg.Params,
		slots:   make(chan struct{}, cfg.MaxConcurrent),
		queue:   int64(cfg.MaxQueue),
		maxWait: cfg.MaxWait,
	}
	// Equalize verifies against this: same costs as a real hash, matching
	// nothing. Random bytes stand in for a key, so no work at start-up.
	h.dummy = hash{params: cfg.Params, salt: randomBytes(cfg.Params.SaltLen), key: randomBytes(cfg.Params.KeyLen)}
	return h, nil
}

// Params returns the costs of new hashes.
func (h *Hasher) Params() Params { return h.params }

// Concurrency returns the limit on simultaneous hash computations.
func (h *Hasher) Concurrency() int { return cap(h.slots) }

// Hash returns the PHC string of password under a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxHashBytes {
		return "", rempart.Errorf(rempart.EINVALID, "Password is longer than %d bytes.", MaxHashBytes)
	}
	out := hash{params: h.params, salt: randomBytes(h.params.SaltLen)}
	if err := h.run(ctx, func() { out.key = derive(password, out.salt, h.params) }); err != nil {
		return "", err
	}
	return out.encode(), nil
}

// Verify reports whether password matches the PHC string encoded, and
// whether encoded should be replaced by a new Hash because its costs, salt or
// key length differ from the Hasher's. A malformed encoded is an EINTERNAL
// error. The comparison takes constant time.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	stored, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	return h.verify(ctx, password, stored)
}

// Equalize spends the work of one Verify and matches nothing. Call it when
// the account named at sign-in does not exist (or has no password), so that
// the response takes as long as for a wrong password on a real account.
func (h *Hasher) Equalize(ctx context.Context, password string) error {
	_, _, err := h.verify(ctx, password, h.dummy)
	return err
}

func (h *Hasher) verify(ctx context.Context, password string, stored hash) (ok, rehash bool, err error) {
	if len(password) > MaxHashBytes {
		return false, false, nil // no stored password can be this long
	}
	var key []byte
	if err := h.run(ctx, func() { key = derive(password, stored.salt, stored.params) }); err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(key, stored.key) == 1
	return ok, stored.params != h.params, nil
}

// run executes f in a computation slot, waiting in the bounded queue if all
// slots are busy.
func (h *Hasher) run(ctx context.Context, f func()) error {
	select {
	case h.slots <- struct{}{}:
	default:
		if h.waiting.Add(1) > h.queue {
			h.waiting.Add(-1)
			e := rempart.Errorf(rempart.ERATELIMIT, "Too many password checks in progress; try again shortly.")
			e.RetryAfter = time.Second
			return e
		}
		defer h.waiting.Add(-1)
		ctx, cancel := context.WithTimeout(ctx, h.maxWait)
		defer cancel()
		select {
		case h.slots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("wait for hashing slot: %w", rempart.Errorf(rempart.EUNAVAILABLE,
				"Password checks are saturated and this request gave up waiting; try again shortly."))
		}
	}
	defer func() { <-h.slots }()
	f()
	return nil
}

func derive(password string, salt []byte, p Params) []byte {
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("password: crypto/rand failed: " + err.Error())
	}
	return b
}
