package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart"
)

// fastParams keep unit tests quick; they are below the OWASP floor, so tests
// build the Hasher around Validate.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func fastHasher(t *testing.T, slots, queue int) *Hasher {
	t.Helper()
	h, err := NewHasher(HasherConfig{MaxConcurrent: slots, MaxQueue: queue})
	if err != nil {
		t.Fatal(err)
	}
	h.params = fastParams
	h.dummy.params = fastParams
	return h
}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := fastHasher(t, 2, 4)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("encoded = %q, want prefix $argon2id$v=19$m=64,t=1,p=1$", enc)
	}
	if got := len(strings.Split(enc, "$")[4]); got != 22 {
		t.Errorf("salt has %d base64 characters, want 22 (16 bytes, unpadded)", got)
	}
	ok, rehash, err := h.Verify(ctx, "Correct-Horse-9", enc)
	if err != nil || !ok || rehash {
		t.Errorf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, _, err = h.Verify(ctx, "Correct-Horse-8", enc)
	if err != nil || ok {
		t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
	}
	enc2, _ := h.Hash(ctx, "Correct-Horse-9")
	if enc2 == enc {
		t.Errorf("two hashes of one password are equal; want distinct salts")
	}
}

func TestDefaultHasherUsesOWASPParams(t *testing.T) {
	h, err := NewHasher(HasherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Params(), DefaultParams; got != want {
		t.Errorf("Params() = %+v, want %+v", got, want)
	}
	if got := h.Concurrency(); got < 1 || got > 3 {
		t.Errorf("Concurrency() = %d, want 1..3 (64 MiB budget / 19 MiB)", got)
	}
	enc, err := h.Hash(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("encoded = %q, want the OWASP costs m=19456,t=2,p=1", enc)
	}
}

func TestParamsValidateRejectsWeak(t *testing.T) {
	for _, p := range []Params{
		{Memory: 19456, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 12288, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 19456, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32},
		{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 16},
		{Memory: 19456, Time: 2, Threads: 0, SaltLen: 16, KeyLen: 32},
	} {
		if err := p.Validate(); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Errorf("Validate(%+v) = %v, want EINVALID", p, err)
		}
	}
	for _, p := range []Params{DefaultParams, {Memory: 47104, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, {Memory: 7168, Time: 5, Threads: 1, SaltLen: 16, KeyLen: 32}} {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", p, err)
		}
	}
}

func TestVerifyReportsRehashForOtherParams(t *testing.T) {
	h := fastHasher(t, 1, 1)
	ctx := context.Background()
	old := hash{params: Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, salt: randomBytes(16)}
	old.key = derive("pw", old.salt, old.params)
	ok, rehash, err := h.Verify(ctx, "pw", old.encode())
	if err != nil || !ok || !rehash {
		t.Errorf("Verify(weaker hash) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestVerifyMalformedIsErrorNotPanic(t *testing.T) {
	h := fastHasher(t, 1, 1)
	good, _ := h.Hash(context.Background(), "pw")
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"", "$", "plain", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$t=1,m=64,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=-1,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=99999999999,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=0,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$",
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "==$" + parts[5],
		good + "$extra",
	} {
		ok, _, err := h.Verify(context.Background(), "pw", bad)
		if ok || rempart.ErrorCode(err) != rempart.EINTERNAL {
			t.Errorf("Verify(%q) = %v, %v; want false, EINTERNAL", bad, ok, err)
		}
		if msg := rempart.ErrorMessage(err); strings.Contains(msg, "argon2") {
			t.Errorf("message %q leaks parse detail", msg)
		}
	}
}

func FuzzParseHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$jRXNi9ZRwlu7nuNv31VyBPhViHtz8vzMUkCKZoF7xIY")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHash(s)
		if err == nil && h.encode() != s {
			t.Errorf("parse then encode = %q, want %q", h.encode(), s)
		}
	})
}

func TestHashRejectsOverlongInput(t *testing.T) {
	h := fastHasher(t, 1, 1)
	_, err := h.Hash(context.Background(), strings.Repeat("a", MaxHashBytes+1))
	if got := rempart.ErrorCode(err); got != rempart.EINVALID {
		t.Errorf("Hash(overlong) code = %q, want %q", got, rempart.EINVALID)
	}
}

func TestEqualizeMatchesNothing(t *testing.T) {
	h := fastHasher(t, 1, 1)
	if err := h.Equalize(context.Background(), ""); err != nil {
		t.Fatalf("Equalize = %v, want nil", err)
	}
	if ok, _, _ := h.verify(context.Background(), "", h.dummy); ok {
		t.Errorf("dummy hash matched the empty password")
	}
	if h.dummy.params != h.params || len(h.dummy.salt) != 16 || len(h.dummy.key) != 32 {
		t.Errorf("dummy hash %+v does not cost what a real one does (%+v)", h.dummy.params, h.params)
	}
}

// TestQueueFullIsRateLimited fills the one slot and the one queue place, then
// expects the next caller to be turned away at once rather than wait.
func TestQueueFullIsRateLimited(t *testing.T) {
	h := fastHasher(t, 1, 1)
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = h.run(context.Background(), func() { close(started); <-release })
	}()
	<-started
	go func() { defer wg.Done(); _ = h.run(context.Background(), func() {}) }()
	for h.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	_, err := h.Hash(context.Background(), "pw")
	var e *rempart.Error
	if !errors.As(err, &e) || e.Code != rempart.ERATELIMIT || e.RetryAfter <= 0 {
		t.Errorf("Hash with full queue = %v, want ERATELIMIT with RetryAfter", err)
	}
	close(release)
	wg.Wait()
	if got := h.waiting.Load(); got != 0 {
		t.Errorf("waiting = %d after drain, want 0", got)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	h := fastHasher(t, 1, 4)
	release := make(chan struct{})
	started := make(chan struct{})
	go func() { _ = h.run(context.Background(), func() { close(started); <-release }) }()
	<-started
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err := h.Verify(ctx, "pw", h.dummy.encode())
	if got := rempart.ErrorCode(err); got != rempart.EUNAVAILABLE {
		t.Errorf("Verify after context end: code = %q, want %q (err %v)", got, rempart.EUNAVAILABLE, err)
	}
}
