package keys

import (
	"context"
	"fmt"
	"sync"
)

// AES-GCM with random 96-bit nonces is safe for at most 2^32 seals under one
// key (NIST SP 800-38D, 8.3): past that, a nonce collision — which reveals
// the authentication key — becomes likelier than 2^-32. Every data key
// therefore counts its seals, and is rotated long before the bound (ENC-3:
// rotation without downtime).
//
// Counting is by leases: a node takes a block of seals from the database
// (which adds the block to the key's count) before it seals, and seals under
// the key only within its blocks. The stored count is thus never below the
// seals actually made, across nodes and crashes; a crash only wastes the rest
// of a block.
const (
	// SealBound is the most seals a data key may make.
	SealBound = 1 << 32
	// DefaultSealLimit is the count at which a key's rotation starts: half
	// the bound, so that the keys in use while the rotation runs stay far
	// below it.
	DefaultSealLimit = 1 << 31
	// DefaultSealLease is the block a node leases at a time.
	DefaultSealLease = 1 << 20
)

// SealLeaser adds n to a data key's stored seal count and returns the new
// count.
type SealLeaser func(ctx context.Context, tenantID, dataKeyID string, n int64) (total int64, err error)

// SealPolicy says how seals are leased and when a key must be rotated.
type SealPolicy struct {
	Leaser SealLeaser
	Lease  int64 // seals leased at a time (default DefaultSealLease)
	Limit  int64 // the count that starts a rotation (default DefaultSealLimit)
	// OnLimit is called (once per key and process) when a key's count
	// reaches Limit: it starts the tenant's key rotation.
	OnLimit func(ctx context.Context, tenantID, dataKeyID string)
}

type sealLeases struct {
	mu      sync.Mutex
	policy  SealPolicy
	left    map[string]int64 // data key ID → seals left in this node's lease
	alerted map[string]bool
}

// SetSealPolicy makes the keyring lease seals for the data keys it hands out
// for sealing (ReserveSeals).
func (k *Keyring) SetSealPolicy(p SealPolicy) {
	if p.Lease <= 0 {
		p.Lease = DefaultSealLease
	}
	if p.Limit <= 0 {
		p.Limit = DefaultSealLimit
	}
	k.seals = &sealLeases{policy: p, left: map[string]int64{}, alerted: map[string]bool{}}
}

// ErrSealBound refuses a seal that would take a data key past SealBound.
var ErrSealBound = fmt.Errorf("the data key has made as many seals as AES-GCM allows (%d): it must be rotated", int64(SealBound))

// ReserveSeals makes room for n seals under a data key before they are made,
// leasing a new block when this node's is used up. Without a seal policy it
// does nothing.
func (k *Keyring) ReserveSeals(ctx context.Context, tenantID, dataKeyID string, n int64) error {
	s := k.seals
	if s == nil {
		return nil
	}
	s.mu.Lock()
	if s.left[dataKeyID] >= n {
		s.left[dataKeyID] -= n
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	// Leasing writes to the database: not under the lock, and two
	// goroutines may both lease; each block is counted, none is lost.
	block := max(s.policy.Lease, n)
	total, err := s.policy.Leaser(ctx, tenantID, dataKeyID, block)
	if err != nil {
		return fmt.Errorf("lease seals: %w", err)
	}
	if total > SealBound {
		return ErrSealBound
	}
	s.mu.Lock()
	s.left[dataKeyID] += block - n
	alert := total >= s.policy.Limit && !s.alerted[dataKeyID]
	if alert {
		s.alerted[dataKeyID] = true
	}
	s.mu.Unlock()
	if alert && s.policy.OnLimit != nil {
		s.policy.OnLimit(context.WithoutCancel(ctx), tenantID, dataKeyID)
	}
	return nil
}
