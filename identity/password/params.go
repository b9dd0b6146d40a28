package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. Memory is in KiB, as in the PHC
// string.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams is OWASP's argon2id configuration m=19 MiB, t=2, p=1, with a
// 16-byte salt and a 32-byte key. The package doc explains the choice.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read from a stored hash, so that a corrupt or hostile
// row cannot make one verification allocate gigabytes or run for minutes.
const (
	maxMemoryKiB = 256 * 1024
	maxTime      = 16
	maxThreads   = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// Validate reports whether p is at least OWASP's minimum (m=19 MiB with t=2,
// or m=12 MiB with t=3, or m=7 MiB with t=5, or more time at the same memory)
// and within the bounds this package accepts.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return rempart.Errorf(rempart.EINVALID, "argon2id parallelism must be between 1 and %d.", maxThreads)
	case p.Time < 1 || p.Time > maxTime:
		return rempart.Errorf(rempart.EINVALID, "argon2id time cost must be between 1 and %d.", maxTime)
	case p.Memory > maxMemoryKiB:
		return rempart.Errorf(rempart.EINVALID, "argon2id memory must be at most %d KiB.", maxMemoryKiB)
	case !meetsOWASP(p.Memory, p.Time):
		return rempart.Errorf(rempart.EINVALID, "argon2id parameters m=%d KiB, t=%d are below the OWASP minimum (m=19456 KiB, t=2).", p.Memory, p.Time)
	case p.SaltLen < 16 || p.SaltLen > maxSaltLen:
		return rempart.Errorf(rempart.EINVALID, "argon2id salt must be between 16 and %d bytes.", maxSaltLen)
	case p.KeyLen < 32 || p.KeyLen > maxKeyLen:
		return rempart.Errorf(rempart.EINVALID, "argon2id key must be between 32 and %d bytes.", maxKeyLen)
	}
	return nil
}

// meetsOWASP follows the cheat sheet's table: m=47104 t=1, m=19456 t=2,
// m=12288 t=3, m=9216 t=4, m=7168 t=5 (KiB).
func meetsOWASP(m, t uint32) bool {
	mins := map[uint32]uint32{1: 47104, 2: 19456, 3: 12288, 4: 9216}
	if t >= 5 {
		return m >= 7168
	}
	return m >= mins[t]
}

// hash is a parsed PHC string.
type hash struct {
	params Params
	salt   []byte
	key    []byte
}

func (h hash) encode() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// errMalformed is the one error for a stored hash that does not parse; its
// detail stays out of the message, which may reach a client.
func errMalformed(why string) error {
	return fmt.Errorf("parse password hash: %s: %w", why, rempart.Errorf(rempart.EINTERNAL, "Stored password hash is malformed."))
}

// parseHash parses "$argon2id$v=19$m=M,t=T,p=P$salt$key". It never panics.
func parseHash(s string) (hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return hash{}, errMalformed("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return hash{}, errMalformed("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return hash{}, errMalformed("unsupported version")
	}
	var h hash
	if err := parseCosts(parts[3], &h.params); err != nil {
		return hash{}, err
	}
	if strings.ContainsAny(parts[4]+parts[5], "\r\n") { // the decoder would skip them
		return hash{}, errMalformed("line break in salt or key")
	}
	var err error
	b64 := base64.RawStdEncoding.Strict()
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen {
		return hash{}, errMalformed("bad salt")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return hash{}, errMalformed("bad key")
	}
	h.params.SaltLen, h.params.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	return h, nil
}

// parseCosts parses "m=M,t=T,p=P" in that order, within the package bounds.
func parseCosts(s string, p *Params) error {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return errMalformed("want m, t and p")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return errMalformed("want m, t and p in order")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != v {
			return errMalformed("bad number") // includes leading zeros: one encoding per hash
		}
		vals[i] = n
	}
	if vals[1] < 1 || vals[1] > maxTime || vals[2] < 1 || vals[2] > maxThreads ||
		vals[0] < 8*vals[2] || vals[0] > maxMemoryKiB {
		return errMalformed("costs out of bounds")
	}
	p.Memory, p.Time, p.Threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	return nil
}
