package password

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart"
)

// PwnedConfig configures a PwnedClient. Zero fields take the defaults.
type PwnedConfig struct {
	BaseURL   string        // default "https://api.pwnedpasswords.com"
	Timeout   time.Duration // whole request; default 3s
	MaxBody   int64         // response bytes read at most; default 1 MiB
	UserAgent string        // default "rempart"
	Client    *http.Client  // default a new client with Timeout
}

// PwnedClient asks the Have I Been Pwned range API how often a password
// appears in breaches. Only the first 5 hex digits of the password's SHA-1
// leave the process (k-anonymity), and responses are padded so their size
// reveals nothing either.
//
// It fails closed: when the service cannot answer, Breaches returns
// EUNAVAILABLE and the password change is refused, because a deployment that
// turned the check on relies on it.
type PwnedClient struct {
	cfg PwnedConfig
}

// NewPwnedClient returns a client for cfg.
func NewPwnedClient(cfg PwnedConfig) *PwnedClient {
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.pwnedpasswords.com"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "rempart"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	return &PwnedClient{cfg: cfg}
}

// errPwnedDown is what a user sees whenever the service cannot answer.
func errPwnedDown(detail error) error {
	return fmt.Errorf("pwned passwords: %w: %w", detail, rempart.Errorf(rempart.EUNAVAILABLE,
		"The breached-password check is unavailable, so the password cannot be accepted now; try again in a few minutes."))
}

// Breaches returns how many times password appears in the breach corpus.
func (c *PwnedClient) Breaches(ctx context.Context, password string) (int, error) {
	sum := sha1.Sum([]byte(password))
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := digest[:5], digest[5:]

	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+"/range/"+prefix, nil)
	if err != nil {
		return 0, errPwnedDown(err)
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return 0, errPwnedDown(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, errPwnedDown(fmt.Errorf("status %d", resp.StatusCode))
	}
	return scanRange(io.LimitReader(resp.Body, c.cfg.MaxBody+1), suffix, c.cfg.MaxBody)
}

// scanRange finds suffix in a "SUFFIX:COUNT" response. Padding entries have
// count 0 and never match. A body over limit, or a malformed line, is an
// error: a truncated answer could hide the suffix.
func scanRange(r io.Reader, suffix string, limit int64) (int, error) {
	sc := bufio.NewScanner(r)
	var read int64
	found := 0
	for sc.Scan() {
		line := sc.Text()
		read += int64(len(line)) + 1
		if read > limit+1 {
			return 0, errPwnedDown(fmt.Errorf("response over %d bytes", limit))
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		s, n, ok := strings.Cut(line, ":")
		count, err := strconv.Atoi(n)
		if !ok || len(s) != 35 || err != nil || count < 0 {
			return 0, errPwnedDown(fmt.Errorf("malformed line %q", line))
		}
		if count > 0 && strings.EqualFold(s, suffix) {
			found = count
		}
	}
	if err := sc.Err(); err != nil {
		return 0, errPwnedDown(err)
	}
	return found, nil
}
